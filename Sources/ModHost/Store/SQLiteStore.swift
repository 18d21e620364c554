import Foundation
import GRDB

/// The default store: one SQLite database per server id, in WAL mode, through GRDB.
///
/// `synchronous=NORMAL` in WAL mode: a committed write survives the host being killed (it is in
/// the WAL, which SQLite recovers on the next open), and a crash never leaves a torn record;
/// only a power loss may lose the last commits.
public final class SQLiteStore: ModuleStore {
    private let pool: DatabasePool
    public let path: String

    /// Why opening or using the database failed, in words a user can act on: SQLite's own
    /// message and code ("file is not a database (SQLite error 26)"), not GRDB's description
    /// with the SQL it was running.
    public static func reason(for error: any Error) -> String {
        if let error = error as? DatabaseError {
            return "\(error.message ?? "unknown error") (SQLite error \(error.resultCode.rawValue))"
        }
        return String(describing: error)
    }

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "modhost.store"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        self.path = path
        try pool.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS entries (
                    module TEXT NOT NULL,
                    key BLOB NOT NULL,
                    value BLOB NOT NULL,
                    PRIMARY KEY (module, key)
                ) WITHOUT ROWID
                """)
        }
    }

    public func get(module: String, key: [UInt8]) throws -> [UInt8]? {
        try pool.read { db in
            try Data.fetchOne(db, sql: "SELECT value FROM entries WHERE module = ? AND key = ?", arguments: [module, Data(key)])
        }.map { [UInt8]($0) }
    }

    public func put(module: String, key: [UInt8], value: [UInt8]) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO entries (module, key, value) VALUES (?, ?, ?) ON CONFLICT (module, key) DO UPDATE SET value = excluded.value",
                arguments: [module, Data(key), Data(value)])
        }
    }

    /// Writes many entries in one transaction (an import; the tests' way to fill a store
    /// quickly): all of them or, on an error, none.
    public func putMany(module: String, _ entries: [([UInt8], [UInt8])]) throws {
        try pool.write { db in
            let statement = try db.cachedStatement(
                sql: "INSERT INTO entries (module, key, value) VALUES (?, ?, ?) ON CONFLICT (module, key) DO UPDATE SET value = excluded.value")
            for (key, value) in entries {
                try statement.execute(arguments: [module, Data(key), Data(value)])
            }
        }
    }

    public func delete(module: String, key: [UInt8]) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM entries WHERE module = ? AND key = ?", arguments: [module, Data(key)])
        }
    }

    /// Rows are read through a cursor straight from SQLite's buffers into the arrays returned
    /// (no `Row` copies): a module restoring 50,000 records at start-up waits on this.
    public func list(module: String, prefix: [UInt8]) throws -> [([UInt8], [UInt8])] {
        try pool.read { db in
            let statement: Statement
            let arguments: StatementArguments
            if prefix.isEmpty {
                statement = try db.cachedStatement(sql: "SELECT key, value FROM entries WHERE module = ? ORDER BY key")
                arguments = [module]
            } else if let upper = Self.successor(of: prefix) {
                statement = try db.cachedStatement(
                    sql: "SELECT key, value FROM entries WHERE module = ? AND key >= ? AND key < ? ORDER BY key")
                arguments = [module, Data(prefix), Data(upper)]
            } else {
                statement = try db.cachedStatement(sql: "SELECT key, value FROM entries WHERE module = ? AND key >= ? ORDER BY key")
                arguments = [module, Data(prefix)]
            }
            var entries: [([UInt8], [UInt8])] = []
            let rows = try Row.fetchCursor(statement, arguments: arguments)
            while let row = try rows.next() {
                let key = try row.withUnsafeData(atIndex: 0) { [UInt8]($0 ?? Data()) }
                let value = try row.withUnsafeData(atIndex: 1) { [UInt8]($0 ?? Data()) }
                entries.append((key, value))
            }
            return entries
        }
    }

    public func close() {
        try? pool.close()
    }

    /// The smallest byte string greater than every string starting with `prefix`, if any.
    static func successor(of prefix: [UInt8]) -> [UInt8]? {
        var upper = prefix
        while let last = upper.last {
            if last < 0xFF {
                upper[upper.count - 1] = last + 1
                return upper
            }
            upper.removeLast()
        }
        return nil
    }
}

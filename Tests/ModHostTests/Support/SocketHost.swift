import Foundation
import ModHostTestKit

/// A host serving a Unix socket beside stdio, for the tests of several clients.
struct SocketHost {
    let host: HostProcess
    /// The socket, in a private (0700) directory of its own.
    let path: String

    /// Starts the host with `--listen unix:<fresh dir>/host.sock` and the echo plugin (and what
    /// `build` adds to the plugin directory), and waits until it is ready.
    init(extraArguments: [String] = [], build: (String) throws -> Void = { _ in }) throws {
        let plugins = try TestPlugins.directory()
        try TestPlugins.echo(into: plugins)
        try build(plugins)
        path = try TemporaryDirectory.make(prefix: "modhost-sock") + "/host.sock"
        host = try HostProcess(plugins: plugins, extraArguments: ["--listen", "unix:\(path)"] + extraArguments)
        try host.waitForStderr(containing: "ready:")
    }

    func connect(read: Bool = true) throws -> SocketClient {
        try SocketClient(path: path, read: read)
    }

    /// The clients `host.status` lists, by id.
    func clients() throws -> [UInt64: JSON] {
        let list = try host.call("host.status")["clients"].array ?? []
        return Dictionary(list.map { (UInt64($0["clientId"].int ?? -1), $0) }, uniquingKeysWith: { first, _ in first })
    }

}

import ModuleSupport

/// What a token operation asks the plugin to do: the kit's effects (store writes, events, log
/// lines, answers to held calls) and the I/O only the plugin can do (`requests`), carried out
/// after them in their order. Each request's result comes back into the engine as an
/// operation of its own, named beside it.
public struct TokenEffects: ModuleEffects, Equatable {
    public var list = ModuleEffectList()
    public var requests: [TokenRequest] = []

    public init() {}

    public func forEachEffect(_ body: (ModuleEffect) -> Void) {
        list.forEachEffect(body)
    }
}

/// I/O the rules ask for, on the auth directory and the token endpoint.
public enum TokenRequest: Sendable, Equatable {
    /// Read the directory: `TokenEngine.scanned`.
    case scan
    /// Take `<authDir>/.<id>.lock` (`flock`, never blocking: retried until the refresh timeout)
    /// and read the file again under it: `lockTaken`, or `lockFailed`.
    case lock(id: String, attempt: UInt64)
    /// Send the refresh request (the whole request bounded by the refresh timeout):
    /// `httpCompleted`.
    case send(id: String, attempt: UInt64, OAuthRequest)
    /// Read the file again (still under the lock) after an `invalid_grant`: `reread`.
    case reread(id: String, attempt: UInt64)
    /// Write the file atomically (temp file, 0600, fsync, rename, fsync the directory):
    /// `written`.
    case write(id: String, attempt: UInt64, bytes: [UInt8])
    /// Release the lock taken for `id`.
    case unlock(id: String)
}

/// A file of the auth directory as the plugin read it.
public struct FileSnapshot: Sendable, Equatable {
    public var fileName: String
    public var content: Content

    public enum Content: Sendable, Equatable {
        case bytes([UInt8])
        /// Not read, and why (`… is readable by group or others (mode 0644): chmod 600 …`).
        case refused(String)
    }

    public init(fileName: String, content: Content) {
        self.fileName = fileName
        self.content = content
    }

    /// What identifies this content: a change of it is a change on disk.
    var fingerprint: UInt64 {
        switch content {
        case .bytes(let bytes): Self.hash(bytes)
        case .refused(let reason): Self.hash(Array(reason.utf8)) ^ 0x5bd1_e995
        }
    }

    static func hash(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}

import ArgumentParser
import Foundation
import ModHost

/// `modhost call`: one request to a running host over its socket (`RemoteCall` does the work).
struct CallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call a method of a running host over its Unix socket and print the result.",
        discussion: """
            Prints the result as JSON on stdout (exit status 0); a JSON-RPC error goes to stderr as the \
            error object (exit status 1); not reaching the host is exit status 2. With --subscribe, \
            event notifications stream to stdout, one {"topic","data","ts"} object per line, until \
            the host closes the connection or you interrupt. Examples:
              modhost call host.status
              modhost call calc.subtract '[42, 23]'
              modhost call --subscribe 'modules.*'
              modhost call --raw host.metrics '{"format":"prometheus"}' > modhost.prom
            """)

    @Option(name: .customLong("socket"), help: ArgumentHelp(
        "The host's socket (default: the one `modhost --listen unix` uses for --server-id).", valueName: "path"))
    var socket: String?

    /// The host's `--server-id` picks the default socket (the same option: see `ServerIDOption`).
    @OptionGroup var server: ServerIDOption

    @Option(name: .customLong("subscribe"), help: ArgumentHelp(
        "Stream events of this topic pattern (* matches any run) until interrupted; repeatable.", valueName: "topic"))
    var subscribe: [String] = []

    @Flag(name: .customLong("raw"), help: ArgumentHelp(
        "Print a string result as its text, not JSON-quoted (a result {\"text\": ...} prints its text).",
        discussion: "For host.metrics' Prometheus text, to feed a node exporter's textfile collector. Other results print as JSON."))
    var raw = false

    @Argument(help: ArgumentHelp("The method, e.g. host.status or calc.sum (optional with --subscribe).", valueName: "method"))
    var method: String?

    @Argument(help: ArgumentHelp("The params: a JSON array or object.", valueName: "params-json"))
    var params: String?

    func validate() throws {
        guard method != nil || !subscribe.isEmpty else { throw ValidationError("give a METHOD to call, or --subscribe TOPIC") }
        if let params, case .failure(let error) = RemoteCall.checkParams(params) { throw ValidationError(error.description) }
    }

    func run() throws {
        let path = socket ?? SocketPath.defaultPath(serverID: server.serverID)
        throw ExitCode(RemoteCall.run(RemoteCall.Request(socket: path, method: method, params: params, subscribe: subscribe, raw: raw)))
    }
}

/// `--server-id`, in a group of its own so that the host and `modhost call` share it: the
/// argument parser reads a parent's options after the subcommand's name too, and hands a
/// subcommand the group its parent decoded.
struct ServerIDOption: ParsableArguments {
    @Option(name: .customLong("server-id"), help: ArgumentHelp(
        "Names this host's database (<state-dir>/<id>.sqlite) and default socket; handed to plugins.", valueName: "id"))
    var serverID = "default"
}

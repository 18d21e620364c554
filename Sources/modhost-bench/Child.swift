import ModHostTestKit

/// The benchmarks' child processes: raw pipes, read and written directly.
typealias Child = PipedProcess

extension PipedProcess {
    /// One request, its response line returned (lines before it, events or answers to pipelined
    /// requests, are skipped): `params` is JSON text, the id is the bench's own.
    func call(_ method: String, _ params: String) -> String {
        send(#"{"jsonrpc":"2.0","id":"bench-call","method":"\#(method)","params":\#(params)}"#)
        while true {
            let line = readLine()
            if line.hasPrefix(#"{"jsonrpc":"2.0","id":"bench-call""#) { return line }
        }
    }
}

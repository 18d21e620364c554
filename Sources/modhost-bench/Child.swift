import ModHostTestKit

/// The benchmarks' child processes: raw pipes, read and written directly.
typealias Child = PipedProcess

import Foundation

/// What the kernel says about a running process (`/proc/<pid>/…`), for tests and benchmarks
/// that check the host's memory, CPU time or mapped images.
public enum ProcFS {
    /// Resident memory now and at its peak, in bytes (`VmRSS`, `VmHWM` of `status`).
    public static func memory(of pid: pid_t) -> (resident: Int, peak: Int)? {
        guard let status = read(pid, "status") else { return nil }
        func field(_ name: String) -> Int? {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
            return line.split(separator: " ").compactMap { Int($0) }.first.map { $0 * 1024 }
        }
        guard let resident = field("VmRSS"), let peak = field("VmHWM") else { return nil }
        return (resident, peak)
    }

    /// CPU time used so far, all threads, user and system, in seconds (`stat`, in clock ticks).
    public static func cpuSeconds(of pid: pid_t) -> Double? {
        guard let stat = read(pid, "stat"), let close = stat.lastIndex(of: ")") else { return nil }
        // After the command name: state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Voluntary context switches so far, summed over the process's threads (each thread's
    /// `voluntary_ctxt_switches`): how often its threads waited, whatever the machine's load
    /// (a preemption is an involuntary one).
    public static func voluntarySwitches(of pid: pid_t) -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.reduce(0) { total, task in
            guard let status = read(pid, "task/\(task)/status"),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("voluntary_ctxt_switches:") }),
                  let count = line.split(separator: "\t").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) })
            else { return total }
            return total + count
        }
    }

    /// The paths of the files mapped into the process (`maps`), e.g. a host's private plugin
    /// copies, which end in ` (deleted)` once unlinked.
    public static func mappedFiles(of pid: pid_t) -> Set<String> {
        guard let maps = read(pid, "maps") else { return [] }
        return Set(maps.split(separator: "\n").compactMap { line in line.firstIndex(of: "/").map { String(line[$0...]) } })
    }

    /// A `/proc/<pid>/` file read to its end (they report a size of 0); nil once the process is gone.
    public static func read(_ pid: pid_t, _ name: String) -> String? {
        let fd = open("/proc/\(pid)/\(name)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

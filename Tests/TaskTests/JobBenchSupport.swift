import Foundation
import ModHostTestKit

/// What the jobs' end-to-end tests ask of the queue's bench: register, list, wait for a run.
extension QueueBench {
    static let minute: Int64 = 60_000, hour: Int64 = 3_600_000, day: Int64 = 86_400_000

    /// `task.register` of a job calling `method` on the target with `params`.
    @discardableResult
    func register(_ name: String, _ schedule: String, call method: String, _ params: JSON = .null,
                  _ options: [String: JSON] = [:]) throws -> JSON {
        var request = options
        request["name"] = .string(name)
        request["schedule"] = .string(schedule)
        request["call"] = params == .null ? ["method": .string(method)] : ["method": .string(method), "params": params]
        return try host.call("task.register", .object(request))
    }

    /// The job as `task.list` shows it.
    func job(_ name: String) throws -> JSON {
        try host.call("task.list", ["name": .string(name)])["jobs"][0]
    }

    /// Waits until job `name`'s newest run is run `run` and has `status`; returns the job.
    @discardableResult
    func waitForRun(_ name: String, _ run: Int64, _ status: String) throws -> JSON {
        var last = JSON.null
        let reached = try Poll.until {
            last = try job(name)
            return last["runs"][0]["run"] == .int(run) && last["runs"][0]["status"].string == status
        }
        guard reached else { throw HostProcessError("job \(name) run \(run) never reached \(status): \(last)", stderr: host.stderrText) }
        return last
    }

    /// Waits until `key` has had `count` calls at the target.
    func waitForCalls(_ key: String, _ count: Int64) throws {
        guard try Poll.until({ try calls(key) == count }) else {
            throw HostProcessError("the target never had \(count) calls of \(key) (has \(try calls(key)))", stderr: host.stderrText)
        }
    }
}

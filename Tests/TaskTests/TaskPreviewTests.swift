import ModHostTestKit
import Testing

/// `task.preview` through the real host and libTask.so: fire times in the host's zone by
/// default or the named one, DST included, and malformed input refused with -32602 naming the
/// field and position while the host keeps serving.
@Suite struct TaskPreviewTests {
    /// 2021-03-27T12:00:00Z, the day before Berlin springs forward.
    static let beforeSpring: Int64 = 1_616_846_400_000

    @Test func previewsInTheHostZoneAndANamedOne() throws {
        let harness = try ModuleHarness(modules: ["libTask.so"], clockStart: Self.beforeSpring, timeZone: "Europe/Berlin")
        // Host zone (TZ=Europe/Berlin): 02:30 on 2021-03-28 is skipped and fires at 03:00 CEST (01:00Z).
        let berlin = try harness.host.call("task.preview", ["schedule": "30 2 * * *", "count": 2])
        #expect(berlin["runs"] == [1_616_893_200_000, 1_616_977_800_000], "\(berlin)")
        // A named zone, from a given time, strictly after it.
        let utc = try harness.host.call("task.preview", ["schedule": "@daily", "timezone": "UTC", "fromMs": 1_616_889_600_000, "count": 3])
        #expect(utc["runs"] == [1_616_976_000_000, 1_617_062_400_000, 1_617_148_800_000], "\(utc)")
        // The default count is 10.
        #expect(try harness.host.call("task.preview", ["schedule": "*/5 * * * * *"])["runs"].array?.count == 10)
    }

    @Test func malformedInputIsRefusedAndTheHostKeepsServing() throws {
        let harness = try ModuleHarness(modules: ["libTask.so"])
        let cases: [(JSON, String)] = [
            (["schedule": "0 61 * * *"], "schedule \"0 61 * * *\": hour field at position 3: 61 is out of range 0-23"),
            (["schedule": "* * *"], "schedule \"* * *\": at position 6: expected 5 or 6 fields (sec min hour dom mon dow), found 3"),
            (["schedule": "@daily", "timezone": "Mars/Olympus"],
             "timezone \"Mars/Olympus\" is not an IANA time zone name (such as Europe/Berlin or UTC)"),
            (["schedule": "@daily", "count": 0], "count must be 1 to 1000, got 0"),
        ]
        for (params, message) in cases {
            let response = try harness.host.request("task.preview", params)
            #expect(response["error"]["code"] == -32602, "\(response)")
            #expect(response["error"]["message"].string?.contains(message) == true, "\(response)")
        }
        let missing = try harness.host.request("task.preview", ["count": 2])
        #expect(missing["error"]["code"] == -32602 && missing["error"]["message"].string?.contains("schedule") == true, "\(missing)")
        #expect(try harness.host.call("task.preview", ["schedule": "@hourly", "count": 1])["runs"] == .array([.int(ModuleHarness.defaultStart + 3_600_000)]))
    }
}

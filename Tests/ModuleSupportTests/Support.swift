/// 2026-01-01T00:00:00Z, a Thursday, and the units the tests count in.
let t0: Int64 = 1_767_225_600_000
let second: Int64 = 1000
let minute: Int64 = 60_000
let hour: Int64 = 3_600_000
let day: Int64 = 86_400_000

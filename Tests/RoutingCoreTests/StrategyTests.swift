import ModuleSupport
import RoutingCore
import Testing

@Suite struct StrategyTests {
    func pool(_ weights: [Int], strategy: Strategy = .weighted, priorities: [Int?]? = nil) throws -> Pool {
        let names = ["a", "b", "c", "d"]
        return try Pool(PoolDefinition(pool: "p", targets: weights.enumerated().map {
            PoolTarget(target: "\(names[$0.offset]).k.m", priority: priorities?[$0.offset], weight: $0.element)
        }, strategy: strategy), field: "p")
    }

    @Test func smoothWeightedRoundRobinGivesNginxsSequence() throws {
        var p = try pool([5, 1, 1])
        let picks = (0..<14).map { _ in ["a", "b", "c"][p.pick([0, 1, 2], factor: { _ in 1 }, advance: true)!] }
        #expect(picks.joined(separator: " ") == "a a b a c a a a a b a c a a")
    }

    @Test func aPickWithoutAdvanceChangesNothing() throws {
        var p = try pool([5, 1, 1])
        for _ in 0..<3 { #expect(p.pick([0, 1, 2], factor: { _ in 1 }, advance: false) == 0) }
        #expect(p.current == [0, 0, 0])
    }

    @Test func priorityTakesTheNextGroupOnlyWhenAWholeGroupIsOut() throws {
        var p = try pool([1, 1, 1], strategy: .priority, priorities: [1, 1, 2])
        #expect([0, 1, 2, 3].map { _ in p.pick([0, 1, 2], factor: { _ in 1 }, advance: true)! } == [0, 1, 0, 1])
        #expect(p.pick([1, 2], factor: { _ in 1 }, advance: true) == 1)
        #expect(p.pick([2], factor: { _ in 1 }, advance: true) == 2)
    }

    @Test func healthWeightedScalesByRecentErrors() throws {
        var p = try pool([1, 1], strategy: .healthWeighted)
        // a: 5 errors → factor 0.5, so b gets two picks to a's one.
        let picks = (0..<6).map { _ in p.pick([0, 1], factor: { $0 == 0 ? 0.5 : 1 }, advance: true)! }
        #expect(picks.filter { $0 == 1 }.count == 4)
        var count = DecayingCount(atMs: 0)
        for _ in 0..<5 { count.add(1, at: 0) }
        #expect(count.factor(at: 0) == 0.5)
        #expect(abs(count.value(at: 600_000) - 2.5) < 1e-9, "a 10 min half-life")
    }

    @Test func badPoolsAreRefusedNamingTheField() {
        #expect(throws: ModuleFailure.invalidInput("params.targets[0].target must be provider.key.model (three non-empty parts), found \"a.m\"")) {
            try Pool(PoolDefinition(pool: "p", targets: [PoolTarget(target: "a.m")]), field: "params")
        }
        #expect(throws: ModuleFailure.self) { try Pool(PoolDefinition(pool: "p", targets: []), field: "params") }
        #expect(throws: ModuleFailure.self) {
            try Pool(PoolDefinition(pool: "p", targets: [PoolTarget(target: "a.k.m", weight: 0)]), field: "params")
        }
    }
}

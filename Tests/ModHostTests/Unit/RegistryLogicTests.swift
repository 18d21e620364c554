@testable import ModHost
import ModHostSupport
import Testing

@Suite struct TopicPatternTests {
    @Test(arguments: [
        ("health.*", "health.cooldown", true), ("health.*", "health.a.b", true), ("health.*", "healthy.x", false),
        ("*", "anything.at.all", true), ("*.failed", "task.failed", true), ("*.failed", "task.finished", false),
        ("a.*.c", "a.b.c", true), ("a.*.c", "a.b.d", false), ("exact", "exact", true), ("exact", "exactly", false),
        ("a**b", "ab", true), ("*x*y*", "..x..y..", true), ("*x*y*", "..y..x..", false),
    ])
    func matches(pattern: String, topic: String, expected: Bool) {
        #expect(TopicPattern(pattern).matches(topic) == expected)
    }
}

@Suite struct RequirementTests {
    @Test func versionsCompareNumerically() throws {
        let v = { (text: String) in SemanticVersion(text)! }
        #expect(v("1.10.0") > v("1.9.9"))
        #expect(v("2") == v("2.0.0"))
        #expect(v("1.2.3-beta") == v("1.2.3"))
        #expect(SemanticVersion("1.x") == nil)
        #expect(SemanticVersion("") == nil)
        #expect(SemanticVersion("1..2") == nil)
    }

    @Test func constraints() throws {
        let requirement = try #require(Requirement("token >=1.2 <2"))
        #expect(requirement.id == "token")
        #expect(requirement.isSatisfied(by: SemanticVersion("1.2.0")!))
        #expect(requirement.isSatisfied(by: SemanticVersion("1.9")!))
        #expect(!requirement.isSatisfied(by: SemanticVersion("2.0.0")!))
        #expect(!requirement.isSatisfied(by: SemanticVersion("1.1.9")!))
        #expect(Requirement("health")!.isSatisfied(by: SemanticVersion("0.0.1")!))
        #expect(Requirement("a =1.0")!.isSatisfied(by: SemanticVersion("1")!))
        #expect(Requirement("Bad") == nil)
        #expect(Requirement("a ~1") == nil)
        #expect(Requirement("a >=x") == nil)
    }
}

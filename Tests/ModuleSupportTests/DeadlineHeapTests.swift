import ModuleSupport
import Testing

/// The heap health and task keep their next times in: earliest first, whatever the order in.
@Suite struct DeadlineHeapTests {
    @Test func popsEarliestFirstWithRepeatsAndAfterRemoveAll() {
        var heap = DeadlineHeap<Int>()
        var generator = SystemRandomNumberGenerator()
        let times = (0..<1_000).map { _ in Int64.random(in: 0..<200, using: &generator) }
        for (index, time) in times.enumerated() { heap.insert(time, index) }
        #expect(heap.count == 1_000 && heap.first?.atMs == times.min())
        var popped: [DeadlineHeap<Int>.Element] = []
        while let next = heap.popFirst() { popped.append(next) }
        #expect(popped.map(\.atMs) == times.sorted())
        #expect(popped.allSatisfy { times[$0.target] == $0.atMs }, "each time keeps its target")
        #expect(heap.popFirst() == nil && heap.first == nil)
        heap.insert(5, 1)
        heap.removeAll()
        #expect(heap.count == 0)
    }
}

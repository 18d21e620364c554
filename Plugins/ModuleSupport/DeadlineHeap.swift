/// Times of things to look at, earliest first: a binary min-heap (health's cooldown ends, task's
/// next job runs). Written here rather than taken from swift-collections' `Heap`: plugins
/// depend on the SDK and the toolchain only.
///
/// Entries are never removed when a time moves; a popped entry whose target no longer has that
/// time is simply found to have nothing due (the engine re-checks the target).
public struct DeadlineHeap<Target: Sendable>: Sendable {
    public struct Element: Sendable {
        public var atMs: Int64
        public var target: Target
    }

    private var elements: [Element] = []

    public init() {}

    public var count: Int { elements.count }
    public var first: Element? { elements.first }

    public mutating func insert(_ atMs: Int64, _ target: Target) {
        elements.append(Element(atMs: atMs, target: target))
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child].atMs < elements[parent].atMs else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    public mutating func popFirst() -> Element? {
        guard !elements.isEmpty else { return nil }
        elements.swapAt(0, elements.count - 1)
        let first = elements.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < elements.count, elements[left].atMs < elements[smallest].atMs { smallest = left }
            if right < elements.count, elements[right].atMs < elements[smallest].atMs { smallest = right }
            guard smallest != parent else { break }
            elements.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }

    public mutating func removeAll() { elements.removeAll() }
}

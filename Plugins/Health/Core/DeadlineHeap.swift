/// Deadlines of keys and series, earliest first: a binary min-heap.
///
/// Entries are never removed when a deadline moves; a popped entry whose target no longer
/// has that deadline is simply found to have nothing due (the engine re-checks the target).
struct DeadlineHeap: Sendable {
    enum Target: Sendable, Equatable {
        case key(String)
        case series(String)
    }

    struct Element: Sendable {
        var atMs: Int64
        var target: Target
    }

    private var elements: [Element] = []

    var count: Int { elements.count }
    var first: Element? { elements.first }

    mutating func insert(_ atMs: Int64, _ target: Target) {
        elements.append(Element(atMs: atMs, target: target))
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child].atMs < elements[parent].atMs else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popFirst() -> Element? {
        guard !elements.isEmpty else { return nil }
        elements.swapAt(0, elements.count - 1)
        let first = elements.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < elements.count, elements[left].atMs < elements[smallest].atMs { smallest = left }
            if right < elements.count, elements[right].atMs < elements[smallest].atMs { smallest = right }
            guard smallest != parent else { break }
            elements.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }

    mutating func removeAll() {
        elements.removeAll()
    }
}

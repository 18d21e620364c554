/// A modhost module written in Swift: a class with an initializer and named methods.
///
/// The SDK builds the C descriptor from the static requirements (once, kept forever), creates
/// one instance per `init` from the host, decodes params, encodes results and maps thrown
/// errors (see `PluginError`). The library exports one C symbol that hands over to the SDK:
///
///     final class Greeter: Plugin {
///         static let id = "greeter"
///         static let version = "1.0.0"
///         init(host: PluginHost, config: RawJSON) {}
///         static func register(_ methods: inout Methods<Greeter>) {
///             methods.add("hello", params: ["name"]) { (_, p: Hello) in "Hello, \(p.name)!" }
///         }
///     }
///
///     @c(mh_plugin_entry) public func mhPluginEntry() -> UnsafeRawPointer { Greeter.pluginEntry() }
///
/// Threads: the host calls an instance from one thread at a time (initializer, `start`,
/// `stop`, sync method handlers, `onEvent`, timer and reply closures, state export and
/// import), so state only these touch needs no lock. Unless `isConcurrent` is `true`: then
/// method handlers, `onEvent`, timer and reply closures may run on several threads at once,
/// overlapping each other in no set order, and the type must protect its state itself; the
/// lifecycle (initializer, `start`, `stop`, state export and import, destruction) still runs
/// alone. Async handlers are tasks that run alongside everything else either way. What
/// `@Sendable` closures share with the instance must be `Sendable` (a `Mutex`, an actor).
/// Never hop to the main actor: the host's main thread is not yours.
public protocol Plugin: AnyObject, SendableMetatype {
    /// The module id, `[a-z][a-z0-9_-]{0,63}`; methods are reached as `"<id>.<method>"`.
    static var id: String { get }
    /// Dotted numbers, e.g. `"1.2.0"`.
    static var version: String { get }
    /// One line shown by `modules.describe`. Default: empty.
    static var description: String { get }
    /// Module ids this one needs, optionally with version ranges (`"token >=1.2 <2"`).
    /// Default: none.
    static var requires: [String] { get }
    /// Event topic patterns delivered to `onEvent` (`'*'` wildcard). Default: none.
    static var subscriptions: [String] { get }
    /// Whether method handlers, `onEvent`, timer and reply closures may run on several threads
    /// at once (`MH_FLAG_CONCURRENT`, see the type's notes on threads). Default: `false`. Only
    /// set it for a type whose state is thread-safe.
    static var isConcurrent: Bool { get }
    /// Whether two generations of the module may serve at once, sharing its store
    /// (`MH_FLAG_MULTI_INSTANCE`: `modules.swap {mode: "canary"}`). Default: `false`. Only set it
    /// for a module that keeps what both instances must agree on in the store.
    static var allowsTwoInstances: Bool { get }

    /// Declares the methods, once per process: `methods.add("name") { (plugin, params: P) in … }`.
    static func register(_ methods: inout Methods<Self>)

    /// Creates an instance.
    ///
    /// - Parameters:
    ///   - host: this instance's host services; keep it.
    ///   - config: the module's config section (`{}` when none); `try config.decode(MyConfig.self)`.
    /// - Throws: any error fails the load with the error's description as the message (a
    ///   `DecodingError` reads `invalid config: missing field "port"`). Do not start work here;
    ///   that is `start`'s job.
    init(host: PluginHost, config: RawJSON) throws

    /// Begins work (timers, subscriptions, tasks). Throwing fails the start with the error's
    /// description. Default: nothing.
    func start() throws

    /// Stops what `start` began; no call arrives afterwards. The host has already cancelled
    /// the instance's timers; the SDK cancels its running async handlers. Default: nothing.
    func stop()

    /// An event matched one of the instance's subscriptions. `data` is JSON, `null` when none.
    /// Default: ignores it.
    func onEvent(topic: String, data: RawJSON)
}

extension Plugin {
    public static var description: String { "" }
    public static var requires: [String] { [] }
    public static var subscriptions: [String] { [] }
    public static var isConcurrent: Bool { false }
    public static var allowsTwoInstances: Bool { false }
    public static func register(_ methods: inout Methods<Self>) {}
    public func start() throws {}
    public func stop() {}
    public func onEvent(topic: String, data: RawJSON) {}

    /// The C descriptor for this plugin type, built on first use and never freed. Return it
    /// from the library's exported `mh_plugin_entry`.
    ///
    /// - Important: a library exports exactly one `mh_plugin_entry`; two plugin types with the
    ///   same `id` in one process are a programming error and stop the process.
    public static func pluginEntry() -> UnsafeRawPointer {
        UnsafeRawPointer(PluginRegistry.shared.descriptor(for: Self.self))
    }
}

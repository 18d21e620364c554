// swift-tools-version: 6.1
import PackageDescription

/// A product module, in a room of its own (`Plugins/README.md`): its rules in
/// `Plugins/<Name>/Core` (pure Swift, time passed in), the dynamic library the host loads in
/// `Plugins/<Name>/Plugin` (glue on the SDK), unit tests in `Tests/<Name>CoreTests` and end-to-end
/// tests through the real binary in `Tests/<Name>Tests`. Adding a module is one line in `modules`.
struct Module {
    let name: String
    /// Extra dependencies of the core (it has `ModHostSupport` and `ModuleSupport`), the plugin
    /// (it has its core, those, the SDK, `ModuleKit` and `ModuleContracts`) and the end-to-end tests.
    var core: [Target.Dependency] = []
    var plugin: [Target.Dependency] = []
    var tests: [Target.Dependency] = []
    /// Files of the end-to-end tests' folder that are not Swift (C fixtures built at test time).
    var testExclude: [String] = []

    var products: [Product] { [.library(name: name, type: .dynamic, targets: [name])] }

    var targets: [Target] {
        [
            .target(name: "\(name)Core", dependencies: ["ModHostSupport", "ModuleSupport"] + core, path: "Plugins/\(name)/Core"),
            .target(name: name, dependencies: [.target(name: "\(name)Core"), "ModHostSupport", "ModHostPluginSDK", "ModuleKit", "ModuleContracts"] + plugin,
                    path: "Plugins/\(name)/Plugin"),
            .testTarget(name: "\(name)CoreTests", dependencies: [.target(name: "\(name)Core"), "ModHostSupport", "ModuleSupport"]),
            .testTarget(name: "\(name)Tests", dependencies: ["ModHostTestKit"] + tests, exclude: testExclude),
        ]
    }
}

/// The product modules.
let modules = [
    Module(name: "Health", core: ["ModHostJSON", "ModuleContracts"], tests: ["ModHost"]),  // its restore tests fill a store file directly
    Module(name: "Routing", core: ["ModHostJSON", "ModuleContracts"]),
    Module(name: "Token", core: ["ModHostJSON", "ModuleContracts"], tests: ["TokenCore"]),  // its tests compute the jitter
    Module(name: "Session", core: ["ModHostJSON"]),
    Module(name: "Node", core: ["ModHostJSON"]),
    Module(name: "Task", core: ["ModHostJSON", "ModuleContracts"], testExclude: ["Fixtures"]),  // a C target module for the queue
]

/// modhost: a plugin host that loads modules as shared libraries through a versioned C ABI
/// (`plugin-sdk/include/modhost.h`) and is scripted over JSON-RPC 2.0 on stdin/stdout.
let package = Package(
    name: "modhost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "modhost", targets: ["modhost"]),
        .library(name: "ModHost", targets: ["ModHost"]),
        .library(name: "ModHostPluginSDK", targets: ["ModHostPluginSDK"]),
        .library(name: "ModHostTestKit", targets: ["ModHostTestKit"]),
        // Plugins: each a dynamic library the host dlopens. Built next to the executable,
        // which is where `modhost` looks for plugins by default.
        .library(name: "Calc", type: .dynamic, targets: ["Calc"]),
    ] + modules.flatMap(\.products),
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // HDR histograms for the host's per-method latency metrics (host only, never plugins).
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // The ABI header, the only contract between host and plugins.
        .systemLibrary(name: "CModHost", path: "plugin-sdk/include"),
        // libffi, for typed C exports (apt: libffi-dev).
        .systemLibrary(name: "CFFI", path: "Sources/CFFI", pkgConfig: "libffi", providers: [.apt(["libffi-dev"])]),
        // The host's C helpers: system calls Glibc's module map leaves out, signal-handler code.
        .target(name: "CModHostShims"),

        // What every module and the host share, dependency-free: saturating time arithmetic
        // within the clock's range, bounded quoting of outside text for log lines.
        .target(name: "ModHostSupport", path: "plugin-sdk/Sources/ModHostSupport"),
        // The one JSON toolkit of host, SDK and test kit, dependency-free: a validating scanner
        // with member and element visitors, the string unescaper, `JSONValue`, its decoder, the
        // `DecodingError` renderer, an object writer. Linked into every Swift plugin.
        .target(name: "ModHostJSON", path: "plugin-sdk/Sources/ModHostJSON"),

        // Host library: loader, registry, control channel, store, clock.
        .target(
            name: "ModHost",
            dependencies: [
                "CModHost",
                "ModHostSupport",
                "ModHostJSON",
                "CFFI",
                "CModHostShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // Thin executable: parses arguments, hands over to ModHost.
        .executableTarget(
            name: "modhost",
            dependencies: [
                "ModHost",
                "ModHostSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Swift SDK for plugin authors: entry-point glue, params decoding, replies, state.
        .target(name: "ModHostPluginSDK", dependencies: ["CModHost", "ModHostSupport", "ModHostJSON"], path: "plugin-sdk/Sources/ModHostPluginSDK"),
        // The module kit: runs a module's pure rules (a `ModuleEngine`) on the SDK: operations at
        // the host time with their effects applied, restore by prefix, swap state, wake-up timers,
        // config with unknown-key warnings. What product modules' plugins are made of.
        .target(name: "ModuleKit", dependencies: ["ModHostPluginSDK", "ModHostSupport", "ModuleSupport"], path: "plugin-sdk/Sources/ModuleKit"),
        // Drives the real modhost binary from tests (yours and plugin authors').
        .target(name: "ModHostTestKit", dependencies: ["ModHostJSON", "CModHostShims"]),  // the shims for posix_spawn

        // Example plugins.
        .target(name: "Calc", dependencies: ["ModHostPluginSDK"], path: "plugin-sdk/examples/swift-calc"),

        // Benchmarks (release mode): `swift build -c release && .build/release/modhost-bench`.
        .executableTarget(name: "modhost-bench", dependencies: ["ModHost", "ModHostTestKit", "CModHost"], exclude: ["latency"]),

        .testTarget(name: "ModHostTests", dependencies: ["ModHost", "ModHostTestKit", "CModHost"], exclude: ["Fixtures"]),
        .testTarget(name: "ModHostPluginSDKTests", dependencies: ["ModHostPluginSDK", "CModHost"]),
        .testTarget(name: "ModHostSupportTests", dependencies: ["ModHostSupport"]),

        // What the product modules share: text and time parsers (durations, HTTP dates,
        // ISO-8601, civil time, byte scanning).
        // And the shapes a module's rules hand the kit: effects, engine, failures.
        .target(name: "ModuleSupport", dependencies: ["ModHostSupport", "ModHostJSON"], path: "Plugins/ModuleSupport"),
        // The payloads and topics modules exchange (token events, provider events, health's
        // answers): one type for the producer and every consumer.
        .target(name: "ModuleContracts", path: "Plugins/ModuleContracts"),
        .testTarget(name: "ModuleContractsTests", dependencies: ["ModuleContracts"]),
        .testTarget(name: "ModuleSupportTests", dependencies: ["ModuleSupport"]),
        .testTarget(name: "ModHostJSONTests", dependencies: ["ModHostJSON"]),
        // The module kit through the real host: the recipe of Plugins/README.md built from its
        // text in a copy of this package, and a probe module (Fixtures/KitProbe) built with it.
        .testTarget(name: "ModuleKitTests", dependencies: ["ModHostTestKit"], exclude: ["Fixtures"]),
    ] + modules.flatMap(\.targets),
    swiftLanguageModes: [.v6]
)

import ModuleSupport

// The token rules as the module kit runs them: the engine's swap state and effects (the kit's,
// plus the I/O requests the plugin carries out through `EngineHost.carryOutside`).
extension TokenEngine: ModuleEngine {}

// A plugin on the kit gets the shapes of its rules with it: `ModuleEngine`, `ModuleEffects`,
// `ModuleEffectList`, `PendingCallID`, `ModuleFailure` (and ModuleSupport's parsers).
@_exported import ModuleSupport

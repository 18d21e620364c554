import ModHostJSON
import ModHostSupport
import ModuleSupport

// Per-node LLM quotas, apex-bridge's QuotaManager exactly (see `QuotaState`), with permits that
// lapse and counters persisted as `quota/<nodeId>`.
extension NodeEngine {
    func quotaLimits(_ nodeId: String) -> QuotaLimits {
        let node = nodes[nodeId]
        return limits.quotaLimits(type: node?.type ?? "worker", tags: node?.tags ?? [])
    }

    public mutating func acquire(_ request: AcquireRequest, at now: Int64, effects: inout Effects) throws(ModuleFailure) -> PermitAnswer {
        guard nodes[request.nodeId] != nil else { throw Self.notRegistered(request.nodeId) }
        if let estimate = request.estimatedTokens, estimate < 0 { throw .invalidInput("estimatedTokens must not be negative, got \(estimate)") }
        var state = quotas[request.nodeId] ?? QuotaState(now: now)
        let permitId = nextID("permit")
        if let refusal = state.acquire(request.kind, estimatedTokens: request.estimatedTokens, limits: quotaLimits(request.nodeId),
                                       permitId: permitId, ttlMs: limits.permitTtlMs, now: now) {
            quotas[request.nodeId] = state
            throw .reason(refusal.reason, "node \(LogText.quote(request.nodeId)): \(refusal.message)",
                          ["retryAfterMs": .int(refusal.retryAfterMs), "nodeId": .string(request.nodeId)])
        }
        quotas[request.nodeId] = state
        permitOwner[permitId] = request.nodeId
        effects.put("quota/\(request.nodeId)", encoding: state)
        return PermitAnswer(permitId: permitId, expiresAt: state.permits[permitId]!.expiresAt)
    }

    public mutating func release(_ request: ReleaseRequest, at now: Int64, effects: inout Effects) throws(ModuleFailure) -> QuotaView {
        let tokens = request.tokensUsed ?? 0
        guard tokens >= 0 else { throw .invalidInput("tokensUsed must not be negative, got \(tokens)") }
        guard let nodeId = permitOwner.removeValue(forKey: request.permitId), var state = quotas[nodeId],
              state.release(request.permitId, tokensUsed: tokens, now: now)
        else {
            throw .reason("permit_not_found", "permit \(LogText.quote(request.permitId)) is unknown, released already or lapsed (permits lapse after \(limits.permitTtlMs) ms)",
                          ["permitId": .string(request.permitId)])
        }
        quotas[nodeId] = state
        let limit = quotaLimits(nodeId).maxTokensPerDay
        if limit > 0, state.tokensToday > limit {
            effects.log(.warning, "node \(LogText.quote(nodeId)) exceeded its daily token quota (\(state.tokensToday) > \(limit))")
        }
        effects.put("quota/\(nodeId)", encoding: state)
        return quotaView(nodeId, state: state, at: now)
    }

    public mutating func quota(_ nodeId: String, at now: Int64) throws(ModuleFailure) -> QuotaView {
        guard nodes[nodeId] != nil else { throw Self.notRegistered(nodeId) }
        var state = quotas[nodeId] ?? QuotaState(now: now)
        state.advance(to: now)
        quotas[nodeId] = state
        return quotaView(nodeId, state: state, at: now)
    }

    func quotaView(_ nodeId: String, state: QuotaState, at now: Int64) -> QuotaView {
        let limits = quotaLimits(nodeId)
        let used = Int64(state.requests.count)
        func line(_ limit: Int64, _ used: Int64, _ reset: Int64?) -> QuotaView.Line {
            QuotaView.Line(limit: limit, used: used, remaining: limit > 0 ? max(0, limit - used) : Int64.max, resetAt: reset)
        }
        let windowReset = state.requests.first.map { $0 + QuotaState.windowMs }
        let streamReset = state.permits.values.filter { $0.kind == .stream }.map(\.expiresAt).min()
        return QuotaView(nodeId: nodeId,
                         requests: line(Int64(limits.windowLimit(.request)), used, windowReset),
                         streamRequests: line(Int64(limits.windowLimit(.stream)), used, windowReset),
                         tokens: line(limits.maxTokensPerDay, state.tokensToday, state.resetAt),
                         streams: line(Int64(limits.maxConcurrentStreams), Int64(state.streamsInFlight), streamReset))
    }
}

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import TokenCore

/// The token endpoint's HTTP client: `URLSession` (FoundationNetworking, libcurl underneath),
/// set up for sending secrets:
///
/// - the whole request is bounded, not only the gap between bytes: `timeoutIntervalForResource`
///   is set, but FoundationNetworking on Linux does not enforce it (a trickling endpoint kept a
///   request open past 20 s), so a watchdog cancels the task 250 ms after the timeout; real
///   time, even under `--manual-clock`;
/// - the body is capped while it streams in: past `OAuthResponse.maxBodyBytes` the transfer is
///   cancelled (`tooLarge`), so a 10 MB answer costs 64 KiB;
/// - redirects are refused (an `http` loopback endpoint could otherwise send the form to
///   another host);
/// - no proxy (`connectionProxyDictionary = [:]`), no cookies, no cache, no credential store;
/// - `invalidate` (at `stop`) cancels what is still running.
///
/// Threads: `send` from any; `completion` runs on the session's delegate queue.
final class HTTPClient: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private struct Transfer {
        var body: [UInt8] = []
        var failure: (HTTPFailure, String)?
        let completion: @Sendable (HTTPResult) -> Void
    }

    private var session: URLSession!
    private let transfers = Mutex<[Int: Transfer]>([:])
    private let timeoutMs: Int64

    init(timeoutMs: Int64) {
        _ = Self.loopbackBypassesProxies
        self.timeoutMs = timeoutMs
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForResource = Double(timeoutMs) / 1000
        configuration.timeoutIntervalForRequest = Double(timeoutMs) / 1000
        configuration.connectionProxyDictionary = [:]
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        configuration.urlCredentialStorage = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpMaximumConnectionsPerHost = 4
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        queue.name = "token-http"
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
    }

    /// Sends `request` (a POST); `completion` gets the response or why there was none, once.
    func send(_ request: OAuthRequest, completion: @escaping @Sendable (HTTPResult) -> Void) {
        guard let url = URL(string: request.url) else { return completion(.failed(.network, detail: "the token endpoint is not a URL")) }
        var urlRequest = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: Double(timeoutMs) / 1000)
        urlRequest.httpMethod = "POST"
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.httpBody = Data(request.body)
        let task = session.dataTask(with: urlRequest)
        transfers.withLock { $0[task.taskIdentifier] = Transfer(completion: completion) }
        task.resume()
        // The watchdog: the whole request ends by its timeout, whatever the resource timer does.
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(timeoutMs) + 250)) { [weak self, weak task] in
            guard let self, let task else { return }
            let running = transfers.withLock { transfers -> Bool in
                guard transfers[task.taskIdentifier] != nil else { return false }
                transfers[task.taskIdentifier]?.failure = (.timeout, "no complete answer within \(timeoutMs) ms (refreshTimeoutMs)")
                return true
            }
            if running { task.cancel() }
        }
    }

    /// FoundationNetworking stores `connectionProxyDictionary` but does not apply it (a TODO in
    /// swift-corelibs-foundation's EasyHandle): libcurl takes `http_proxy`, `https_proxy`,
    /// `all_proxy` from the environment itself. So that no proxy ever sees a loopback request,
    /// the loopback names are added to `no_proxy` and `NO_PROXY`, once per process, when a proxy
    /// variable is set (before the first transfer; proxies stay in use for other hosts).
    static let loopbackBypassesProxies: Bool = {
        let proxies = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
        guard proxies.contains(where: { getenv($0) != nil }) else { return false }
        for name in ["no_proxy", "NO_PROXY"] {
            let current = getenv(name).map { String(cString: $0) } ?? ""
            let value = current.isEmpty ? "127.0.0.1,localhost,::1" : "\(current),127.0.0.1,localhost,::1"
            setenv(name, value, 1)
        }
        return true
    }()

    /// Cancels every transfer and ends the session (at `stop`).
    func invalidate() {
        session.invalidateAndCancel()
    }

    // MARK: URLSessionDataDelegate

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        transfers.withLock { $0[task.taskIdentifier]?.failure = (.redirect, "the token endpoint answered HTTP \(response.statusCode) (a redirect, refused)") }
        completionHandler(nil)
        task.cancel()
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let over = transfers.withLock { transfers -> Bool in
            guard var transfer = transfers[dataTask.taskIdentifier] else { return false }
            if transfer.body.count + data.count > OAuthResponse.maxBodyBytes {
                transfer.failure = (.tooLarge, "the body passed \(OAuthResponse.maxBodyBytes) bytes")
                transfer.body = []
                transfers[dataTask.taskIdentifier] = transfer
                return true
            }
            transfer.body.append(contentsOf: data)
            transfers[dataTask.taskIdentifier] = transfer
            return false
        }
        if over { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let transfer = transfers.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) else { return }
        if let (failure, detail) = transfer.failure { return transfer.completion(.failed(failure, detail: detail)) }
        if let error {
            let code = (error as NSError).code
            let failure: HTTPFailure = code == NSURLErrorTimedOut ? .timeout : .network
            let detail = code == NSURLErrorTimedOut ? "no complete answer within \(timeoutMs) ms (refreshTimeoutMs)"
                : "the request failed: \((error as NSError).localizedDescription)"
            return transfer.completion(.failed(failure, detail: detail))
        }
        guard let response = task.response as? HTTPURLResponse else {
            return transfer.completion(.failed(.network, detail: "no HTTP response"))
        }
        var headers: [String: String] = [:]
        for (name, value) in response.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        transfer.completion(.response(status: response.statusCode, headers: headers, body: transfer.body))
    }
}

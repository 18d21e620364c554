import Foundation
import ModHostTestKit

/// A real OAuth token endpoint on loopback for the token tests: a Python `http.server` whose
/// refresh grant is validated and answered by oauthlib (RFC 6749 §6 request, §5.1 success, §5.2
/// errors: a third-party peer, not our own reading of the RFC), recording every request that
/// reaches it (form, `Authorization`, `Content-Type`, `Accept`) so tests assert exactly what was
/// sent, and misbehaving on cue (`script`: a status with `Retry-After`, a hang, a 10 MB or
/// non-JSON body, a redirect, a sibling that rotates the refresh token first).
///
/// Controlled over its stdin: one JSON command a line (`refresh` tokens it accepts, `rotate`,
/// `expiresIn` (null: absent), `delayMs`, `script`), answered with the requests so far.
final class TokenEndpoint: @unchecked Sendable {
    let process: PipedProcess
    let port: Int
    let directory: String

    /// `http://127.0.0.1:<port>/token`.
    var url: String { "http://127.0.0.1:\(port)/token" }

    init() throws {
        directory = try TemporaryDirectory.make(prefix: "token-endpoint")
        let path = "\(directory)/token_endpoint.py"
        try Data(Self.script.utf8).write(to: URL(fileURLWithPath: path))
        process = try PipedProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3", path], stderrPath: "\(directory)/stderr.txt")
        let first = try JSON(parsing: process.readLine())
        guard let port = first["port"].int else {
            throw HostProcessError("the token endpoint did not start: \(first["error"].string ?? first.text)")
        }
        self.port = Int(port)
    }

    deinit {
        process.stop()
    }

    /// Sends one command; returns its answer (`requests`, `valid` refresh tokens).
    @discardableResult
    func control(_ command: JSON) throws -> JSON {
        process.send(command.text)
        return try JSON(parsing: process.readLine())
    }

    /// Makes `token` a refresh token the endpoint accepts, issued to `client`.
    func accept(_ token: String, client: String = "client-a", scope: String? = nil) throws {
        var entry: [String: JSON] = ["client": .string(client)]
        if let scope { entry["scope"] = .string(scope) }
        try control(["refresh": .object([token: .object(entry)])])
    }

    /// Every request so far, oldest first.
    func requests() throws -> [JSON] {
        try control([:])["requests"].array ?? []
    }

    /// The refresh tokens it accepts now.
    func validRefreshTokens() throws -> [String] {
        (try control([:])["valid"].array ?? []).compactMap(\.string)
    }

    static let script = #"""
# A token endpoint on loopback for the token module's tests: RFC 6749 §6 refresh requests
# validated and answered (§5.1, §5.2) by oauthlib (required: without it the script says so and
# exits); every request recorded; scripted misbehaviour (5xx, 429,
# a hang, a huge or non-JSON body, a sibling rotating the refresh token). Controlled by JSON
# lines on stdin, one answer line on stdout each. The first stdout line is {"port": N, ...}.
import base64, json, os, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # loopback http
try:
    from oauthlib.oauth2 import RequestValidator, BearerToken
    from oauthlib.oauth2.rfc6749.endpoints.token import TokenEndpoint
    from oauthlib.oauth2.rfc6749.grant_types import RefreshTokenGrant
except ImportError:
    print(json.dumps({"error": "the token tests need oauthlib: pip install oauthlib (.ci/run installs it)"}), flush=True)
    sys.exit(1)

lock = threading.Lock()
state = {
    "clients": {"client-a": "secret-a", "public-b": None},
    "refresh": {},          # valid refresh token -> {"client": id, "scope": "..."}
    "rotate": True,
    "expiresIn": 3600,
    "delayMs": 0,
    "script": [],           # overrides for the next requests, in order
    "requests": [],
    "issued": 0,
}

def basic_credentials(headers):
    value = headers.get("Authorization", "")
    if not value.startswith("Basic "):
        return None
    decoded = base64.b64decode(value[6:]).decode()
    client, _, secret = decoded.partition(":")
    return urllib.parse.unquote_plus(client), urllib.parse.unquote_plus(secret)

if True:
    class Validator(RequestValidator):
        def client_authentication_required(self, request, *args, **kwargs):
            return "Authorization" in request.headers
        def authenticate_client(self, request, *args, **kwargs):
            creds = basic_credentials(request.headers)
            if not creds or state["clients"].get(creds[0], "\0") != creds[1]:
                return False
            request.client = type("Client", (), {"client_id": creds[0]})()
            request.client_id = creds[0]
            return True
        def authenticate_client_id(self, client_id, request, *args, **kwargs):
            if client_id not in state["clients"] or state["clients"][client_id] is not None:
                return False
            request.client = type("Client", (), {"client_id": client_id})()
            return True
        def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
            return grant_type == "refresh_token"
        def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
            entry = state["refresh"].get(refresh_token)
            return entry is not None and entry["client"] == client.client_id
        def get_original_scopes(self, refresh_token, request, *args, **kwargs):
            return (state["refresh"][refresh_token].get("scope") or "").split()
        def rotate_refresh_token(self, request):
            return state["rotate"]
        def save_bearer_token(self, token, request, *args, **kwargs):
            old = state["refresh"].get(request.refresh_token)
            if state["rotate"] and token.get("refresh_token") != request.refresh_token:
                state["refresh"].pop(request.refresh_token, None)
                state["refresh"][token["refresh_token"]] = old

    def issue(request):
        state["issued"] += 1
        return "at-%d-%s" % (state["issued"], base64.b32encode(os.urandom(10)).decode().lower())

    def refresh_generator(request, refresh_token=False):
        return "rt-%d-%s" % (state["issued"], base64.b32encode(os.urandom(10)).decode().lower())

    endpoint = TokenEndpoint("refresh_token", BearerToken(Validator(), token_generator=issue, refresh_token_generator=refresh_generator,
                                                          expires_in=lambda request: state["expiresIn"] or 3600),
                             {"refresh_token": RefreshTokenGrant(Validator())})

def answer_oauth(body, headers):
    # (status, headers, body) of the refresh request, by oauthlib.
    out_headers, out_body, status = endpoint.create_token_response("http://127.0.0.1/token", "POST", body, headers)
    payload = json.loads(out_body)
    if status == 200:
        if state["expiresIn"] is None:
            payload.pop("expires_in", None)
        if not state["rotate"]:
            payload.pop("refresh_token", None)
    return status, out_headers, json.dumps(payload).encode()

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass

    def send(self, status, headers, body):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        headers = {k: v for k, v in self.headers.items()}
        with lock:
            state["requests"].append({"path": self.path, "body": body, "form": dict(urllib.parse.parse_qsl(body)),
                                      "authorization": headers.get("Authorization"), "contentType": headers.get("Content-Type"),
                                      "accept": headers.get("Accept"), "at": time.time()})
            step = state["script"].pop(0) if state["script"] else {}
            delay = step.get("delayMs", state["delayMs"])
        if delay:
            time.sleep(delay / 1000)
        if step.get("hang"):
            time.sleep(120)
            return
        if "sibling" in step:   # another tool refreshed (and rotated) meanwhile
            sib = step["sibling"]
            with open(sib["file"], "w") as f:
                json.dump(sib["content"], f)
            os.chmod(sib["file"], 0o600)
            with lock:
                state["refresh"].pop(dict(urllib.parse.parse_qsl(body)).get("refresh_token"), None)
        if "status" in step:
            extra = {"Retry-After": str(step["retryAfter"])} if "retryAfter" in step else {}
            self.send(step["status"], dict(extra, **{"Content-Type": "application/json"}), json.dumps(step.get("json", {"error": "server_error"})).encode())
            return
        if "bigBytes" in step:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(step["bigBytes"]))
            self.end_headers()
            chunk = b" " * 65536
            sent = 0
            try:
                while sent < step["bigBytes"]:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    sent += len(chunk)
                    time.sleep(step.get("chunkDelayMs", 0) / 1000)
            except (BrokenPipeError, ConnectionResetError):
                pass
            with lock:
                state["bigSent"] = sent
            return
        if "trickleMs" in step:   # a byte at a time: never idle, never done
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(step["trickleMs"] / 1000)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if step.get("nonJSON"):
            self.send(200, {"Content-Type": "text/html"}, b"<html>not json</html>")
            return
        if "redirect" in step:
            self.send(307, {"Location": step["redirect"]}, b"")
            return
        with lock:
            status, out_headers, out = answer_oauth(body, headers)
        self.send(status, out_headers, out)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
print(json.dumps({"port": server.server_address[1]}), flush=True)

for line in sys.stdin:
    command = json.loads(line)
    with lock:
        if "refresh" in command:
            for token, entry in command["refresh"].items():
                state["refresh"][token] = entry
        for key in ("rotate", "expiresIn", "delayMs", "clients"):
            if key in command:
                state[key] = command[key]
        if "script" in command:
            state["script"].extend(command["script"])
        answer = {"requests": state["requests"], "valid": sorted(state["refresh"].keys()), "bigSent": state.get("bigSent")}
    print(json.dumps(answer), flush=True)
"""#
}

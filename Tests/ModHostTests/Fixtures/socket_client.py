#!/usr/bin/env python3
"""socket_client.py: a separate client process on a host's Unix socket (modhost --listen).

    socket_client.py PATH NAME COUNT

Connects to PATH, subscribes to "load.NAME", then sends COUNT calls of echo.echo ["NAME", i]
pipelined, publishing an event "load.NAME" after every tenth, so event notifications arrive
between the responses. It reads every line, keeps notifications apart from responses (the
pattern any client that subscribes needs) and prints one JSON summary on stdout:

    {"name": NAME, "responses": n, "wrong": n, "events": n, "clientId": n}

`wrong` counts responses that are not the echo of their own request (another client's answer,
a lost id); `clientId` is this connection's id in host.status. Exit status 0 once every
response arrived.
"""
import json
import socket
import sys

path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
connection.connect(path)
reader = connection.makefile("r", encoding="utf-8")
next_id = 0
answers = {}
events = []


def send(method, params=None):
    global next_id
    next_id += 1
    message = {"jsonrpc": "2.0", "id": next_id, "method": method}
    if params is not None:
        message["params"] = params
    connection.sendall((json.dumps(message) + "\n").encode())
    return next_id


def wait(request_id):
    """Reads lines until the response to request_id; notifications in between are kept."""
    while request_id not in answers:
        line = reader.readline()
        if not line:
            sys.exit("the host closed the connection")
        message = json.loads(line)
        if "id" in message:
            answers[message["id"]] = message
        else:
            events.append(message)
    return answers.pop(request_id)


wait(send("events.subscribe", {"topics": ["load." + name]}))
sent = []
for i in range(count):
    sent.append((send("echo.echo", [name, i]), i))
    if i % 10 == 9:
        sent.append((send("events.publish", {"topic": "load." + name, "data": i}), None))
wrong = 0
responses = 0
for request_id, i in sent:
    answer = wait(request_id)
    responses += 1
    if i is not None and answer.get("result") != [name, i]:
        wrong += 1
status = wait(send("host.status"))["result"]
mine = [c for c in status["clients"] if c["subscriptions"] == ["load." + name]]
print(json.dumps({"name": name, "responses": responses, "wrong": wrong, "events": len(events),
                  "clientId": mine[0]["clientId"] if len(mine) == 1 else None}))
connection.close()

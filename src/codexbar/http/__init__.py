"""The one HTTP client of the program, over a transport that can be swapped.

`client.HttpClient` owns what every request must have (headers, one deadline, retries, the
size cap, no redirects, JSON decoding); a `transport.Transport` moves the bytes: `network`
talks to real servers (http.client, imported only then), `memory` answers in-process from a
handler, which is how `--demo` and unit tests run without a socket.

Nothing is imported here, so `import codexbar.http.transport` stays cheap.
"""

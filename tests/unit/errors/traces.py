"""Real-shaped error lines per language: each case's variants are one error, the cases are distinct.

A variant changes what varies between occurrences of one error (line numbers, ids, addresses,
timestamps, goroutine numbers, proxy and lambda numbering); a different case is a different error
(another type, another root cause, another call site, another message).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    variants: tuple[str, ...]


def _java_order(ts: str, order: int, line: int, proxy: str, lam: int) -> str:
    return (
        f"{ts} ERROR [http-nio-8080-exec-{order % 7}] o.e.orders.OrderController: request {order} failed\n"
        f"java.lang.IllegalStateException: order {order} has no customer\n"
        f"\tat org.example.orders.OrderService.validate(OrderService.java:{line})\n"
        f"\tat org.example.orders.OrderService.lambda$process${lam}(OrderService.java:{line + 40})\n"
        f"\tat java.base/java.util.ArrayList.forEach(ArrayList.java:1511)\n"
        f"\tat org.example.orders.OrderService.process(OrderService.java:{line + 42})\n"
        f"\tat org.example.orders.OrderService$$EnhancerBySpringCGLIB$${proxy}.process(<generated>)\n"
        f"\tat jdk.proxy2/jdk.proxy2.$Proxy{lam + 100}.process(Unknown Source)\n"
        f"\tat org.example.orders.OrderController$1.run(OrderController.java:{line // 2})\n"
        f"\tat java.base/java.lang.Thread.run(Thread.java:833)\n"
        f"Caused by: java.lang.NullPointerException: customer {order} is null\n"
        f"\tat org.example.orders.Order.customer(Order.java:{line - 98})\n"
        f"\t... 7 more\n"
    )


JAVA_ORDER = Case(
    "java caused-by chain through a CGLIB proxy, a lambda and an anonymous class",
    (
        _java_order("2023-11-10 08:00:00,001", 9042, 118, "a1b2c3d4", 0),
        _java_order("2023-11-11 17:42:13,577", 17, 121, "5e6f7a8b", 3),
        _java_order("2024-01-02 00:00:59,999", 123456, 140, "deadbeef", 12),
    ),
)

# Same top exception and frames, another root cause: another error.
JAVA_ORDER_OTHER_CAUSE = Case(
    "java: same frames, another root cause",
    (
        _java_order("2023-11-10 08:00:00,001", 9042, 118, "a1b2c3d4", 0).replace(
            "java.lang.NullPointerException", "java.lang.ArithmeticException"
        ),
    ),
)


def _java_db(ts: str, ms: int, line: int) -> str:
    return (
        f"{ts} ERROR [pool-1-thread-3] com.acme.billing.InvoiceJob: run failed\n"
        f"org.springframework.dao.DataAccessResourceFailureException: timeout after {ms}ms\n"
        f"\tat org.springframework.jdbc.support.SQLStateSQLExceptionTranslator.doTranslate(SQLStateSQLExceptionTranslator.java:{line})\n"
        f"\tat com.acme.billing.InvoiceRepository.findOpen(InvoiceRepository.java:{line // 3})\n"
        f"\tat com.acme.billing.InvoiceJob.run(InvoiceJob.java:{line // 4})\n"
        f"\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)\n"
        f"Caused by: java.net.SocketTimeoutException: Read timed out\n"
        f"\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:{line + 200})\n"
        f"\t... 4 more\n"
    )


JAVA_DB = Case(
    "java spring data access timeout",
    (_java_db("2023-11-10 08:00:00,001", 30000, 96), _java_db("2023-11-12 09:10:11,222", 5000, 102)),
)


def _python(ts: str, task: int, line: int, host: str, version: str) -> str:
    return (
        f"{ts} - celery.worker - ERROR - Task tasks.send_mail[{task}] raised unexpected: ConnectionRefusedError\n"
        "Traceback (most recent call last):\n"
        f'  File "/srv/releases/{version}/app/tasks.py", line {line}, in send_mail\n'
        "    smtp.connect(host, port)\n"
        f'  File "/srv/releases/{version}/app/tasks.py", line {line + 9}, in <lambda>\n'
        "    retry = lambda: smtp.connect(host, port)\n"
        f'  File "/usr/lib/python3.11/smtplib.py", line 341, in connect\n'
        "    self.sock = self._get_socket(host, port, self.timeout)\n"
        f"ConnectionRefusedError: [Errno 111] Connection refused to {host}:25\n"
    )


PYTHON_SMTP = Case(
    "python traceback",
    (
        _python("2023-11-10 08:00:05,120", 7, 31, "10.0.0.5", "20231110-1"),
        _python("2023-11-12 22:01:00,001", 9134, 33, "192.168.1.20", "20231112-3"),
    ),
)

PYTHON_CHAIN = Case(
    "python chained exception (raise ... from)",
    (
        "2023-11-10 08:00:05,120 - app.api - ERROR - lookup failed for user 42\n"
        "Traceback (most recent call last):\n"
        '  File "/app/api/users.py", line 12, in load\n'
        "    return cache[user_id]\n"
        "KeyError: 42\n"
        "\n"
        "The above exception was the direct cause of the following exception:\n"
        "\n"
        "Traceback (most recent call last):\n"
        '  File "/app/api/users.py", line 20, in get_user\n'
        "    raise LookupFailed(user_id) from exc\n"
        "app.errors.LookupFailed: 42\n",
        "2023-11-11 10:00:00,000 - app.api - ERROR - lookup failed for user 9001\n"
        "Traceback (most recent call last):\n"
        '  File "/app/api/users.py", line 14, in load\n'
        "    return cache[user_id]\n"
        "KeyError: 9001\n"
        "\n"
        "The above exception was the direct cause of the following exception:\n"
        "\n"
        "Traceback (most recent call last):\n"
        '  File "/app/api/users.py", line 22, in get_user\n'
        "    raise LookupFailed(user_id) from exc\n"
        "app.errors.LookupFailed: 9001\n",
    ),
)


def _go_panic(index: int, length: int, addr: str, goroutine: int, line: int) -> str:
    return (
        f"panic: runtime error: index out of range [{index}] with length {length}\n"
        "\n"
        f"goroutine {goroutine} [running]:\n"
        f"main.(*Server).handle(0xc000{addr}, {{0x5e1f20, 0xc0000a4000}})\n"
        f"\t/home/app/server.go:{line} +0x1d\n"
        f"main.(*Server).serve.func1()\n"
        f"\t/home/app/server.go:{line + 20} +0x25\n"
        "net/http.HandlerFunc.ServeHTTP(0xc00001e0c0, {0x6d3a10, 0xc0001a2000}, 0xc000194000)\n"
        "\t/usr/local/go/src/net/http/server.go:2136 +0x29\n"
        f"created by main.main in goroutine 1\n"
        f"\t/home/app/main.go:{line - 30} +0x3e\n"
        "\n"
        f"goroutine {goroutine + 1} [IO wait]:\n"
        "internal/poll.runtime_pollWait(0x7f5c, 0x72)\n"
        "\t/usr/local/go/src/runtime/netpoll.go:343 +0x85\n"
    )


GO_PANIC = Case(
    "go panic with a goroutine dump",
    (_go_panic(5, 3, "010000", 7, 42), _go_panic(17, 2, "0a2f00", 181, 45)),
)

GO_NIL_PANIC = Case(
    "go panic: another message at the same frames",
    (
        _go_panic(5, 3, "010000", 7, 42).replace(
            "runtime error: index out of range [5] with length 3",
            "runtime error: invalid memory address or nil pointer dereference",
        ),
    ),
)

GO_ERROR = Case(
    "go error string in a zap JSON line",
    (
        '{"level":"error","ts":1699603200.123,"caller":"db/pool.go:88","msg":"query failed",'
        '"error":"dial tcp 10.0.0.5:5432: connect: connection refused","request_id":"3f2504e0-4f89-11d3-9a0c-0305e82c3301"}',
        '{"level":"error","ts":1699689600.5,"caller":"db/pool.go:91","msg":"query failed",'
        '"error":"dial tcp 10.0.7.12:6432: connect: connection refused","request_id":"9b2d1e0a-0000-4d3c-8e8f-aa00bb11cc22"}',
    ),
)

GO_ERROR_OTHER = Case(
    "go error string: another error",
    (
        '{"level":"error","ts":1699603200.123,"caller":"db/pool.go:88","msg":"query failed",'
        '"error":"dial tcp 10.0.0.5:5432: i/o timeout"}',
    ),
)


def _dotnet(order: int, line: int, state: int, lam: str) -> str:
    return (
        f"2023-11-10T08:00:00.000Z fail: Orders.Api.OrderEndpoint[0] order {order} failed\n"
        "System.InvalidOperationException: Sequence contains no elements\n"
        "   at System.Linq.ThrowHelper.ThrowNoElementsException()\n"
        "   at System.Linq.Enumerable.First[TSource](IEnumerable`1 source)\n"
        f"   at Orders.Api.OrderService.<>c__DisplayClass{lam}.<GetAsync>b__{lam}(Order o) in /src/Orders.Api/OrderService.cs:line {line}\n"
        f"   at Orders.Api.OrderService.<GetAsync>d__{state}.MoveNext() in /src/Orders.Api/OrderService.cs:line {line + 7}\n"
        "--- End of stack trace from previous location ---\n"
        "   at System.Runtime.CompilerServices.TaskAwaiter.ThrowForNonSuccess(Task task)\n"
        f"   at Orders.Api.OrderEndpoint.<Map>b__0_0(Int32 id) in /src/Orders.Api/OrderEndpoint.cs:line {line // 2}\n"
    )


DOTNET = Case(
    ".NET async state machine and lambdas",
    (_dotnet(9042, 57, 5, "3_0"), _dotnet(17, 61, 7, "4_1")),
)

DOTNET_INNER = Case(
    ".NET inner exception",
    (
        "System.AggregateException: One or more errors occurred. (Connection refused 10.0.0.5:5432)"
        " ---> System.Net.Sockets.SocketException (111): Connection refused 10.0.0.5:5432\n"
        "   at Orders.Data.Db.OpenAsync() in /src/Orders.Data/Db.cs:line 30\n"
        "   --- End of inner exception stack trace ---\n"
        "   at Orders.Data.Db.Query() in /src/Orders.Data/Db.cs:line 12\n",
        "System.AggregateException: One or more errors occurred. (Connection refused 10.1.2.3:6432)"
        " ---> System.Net.Sockets.SocketException (111): Connection refused 10.1.2.3:6432\n"
        "   at Orders.Data.Db.OpenAsync() in /src/Orders.Data/Db.cs:line 33\n"
        "   --- End of inner exception stack trace ---\n"
        "   at Orders.Data.Db.Query() in /src/Orders.Data/Db.cs:line 15\n",
    ),
)


def _node(user: str, line: int, col: int, root: str) -> str:
    return (
        f"2023-11-10T08:00:00.000Z ERROR request failed for user {user}\n"
        "TypeError: Cannot read properties of undefined (reading 'email')\n"
        f"    at formatUser ({root}/src/users/format.js:{line}:{col})\n"
        f"    at {root}/src/users/routes.js:{line + 10}:7\n"
        f"    at Array.map (<anonymous>)\n"
        f"    at Layer.handle [as handle_request] ({root}/node_modules/express/lib/router/layer.js:95:5)\n"
        f"    at Object.<anonymous> ({root}/src/server.js:{line * 2}:1)\n"
        "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n"
    )


NODE = Case(
    "node TypeError",
    (_node("42", 12, 19, "/app"), _node("ab12cd", 14, 23, "/home/deploy/releases/20231112")),
)

NODE_OTHER = Case(
    "node: same type, another call site",
    (_node("42", 12, 19, "/app").replace("formatUser", "renderUser").replace("format.js", "render.js"),),
)

PLAIN = Case(
    "a plain error line without a stack",
    (
        "2023-11-10T08:00:00Z ERROR payment 9f86d081 for jane@example.com failed: upstream 10.0.0.5:8443 "
        "returned 502 after 3012ms (request 3f2504e0-4f89-11d3-9a0c-0305e82c3301)",
        "2023-11-12T17:30:01.5+01:00 ERROR payment 00ffab12 for bob.smith@example.org failed: upstream "
        "[2001:db8::7]:443 returned 503 after 12ms (request 9b2d1e0a-0000-4d3c-8e8f-aa00bb11cc22)",
    ),
)

PLAIN_OTHER = Case(
    "a different plain error line",
    ("2023-11-10T08:00:00Z ERROR refund 9f86d081 for jane@example.com failed: card declined",),
)

CASES: tuple[Case, ...] = (
    JAVA_ORDER,
    JAVA_ORDER_OTHER_CAUSE,
    JAVA_DB,
    PYTHON_SMTP,
    PYTHON_CHAIN,
    GO_PANIC,
    GO_NIL_PANIC,
    GO_ERROR,
    GO_ERROR_OTHER,
    DOTNET,
    DOTNET_INNER,
    NODE,
    NODE_OTHER,
    PLAIN,
    PLAIN_OTHER,
)

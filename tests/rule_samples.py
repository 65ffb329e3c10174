"""Sample values for each input rule (``tokenauth.rules``), shared by the rule tests and by
the check that the OpenAPI patterns mean the same in JavaScript.

``schema`` samples are decided by the OpenAPI keywords alone (pattern, lengths);
``server`` samples have the right shape but are refused by the server only (a date that
does not exist, a lone surrogate, which JSON Schema cannot express).
"""
from tokenauth import rules

TOKEN_BODY = "A" * 46

SAMPLES = {
    "username": (rules.USERNAME, {
        "accepted": ["a", "0", "alice", "Alice.B-c_d@e+f", "a" * 150, "ALICE"],
        "refused": ["", "-alice", ".alice", "_a", "ali ce", "é", "a" * 151, "alice\n",
                    "a\x00b", "al/ice"],
        "server": [],
    }),
    "password": (rules.PASSWORD, {
        "accepted": ["x" * 8, "x" * 1024, "correct horse", "tka_" + "A" * 45,
                     "tka_" + TOKEN_BODY + "!", "TKA_" + TOKEN_BODY, "pass\x00word",
                     "tka_" + TOKEN_BODY + "\n"],
        "refused": ["x" * 7, "", "x" * 1025, "tka_" + TOKEN_BODY, "abc_" + "z" * 300],
        "server": ["long-enough\ud800"],
    }),
    "name": (rules.TOKEN_NAME, {
        "accepted": ["ci", "  ci  ", "\u3000名前\u3000", "x" * 100, "Déploiement 🚀",
                     "a\u200bb", "\u200b", "🚀" * 100],
        "refused": ["", " ", "\u00a0\ufeff\u3000", "x" * 101, "a\tb", "\x00", "line\nbreak",
                    "del\x7f", "nel\x85", "esc\x1b[31m"],
        "server": ["\ud800", "a\udfffb"],
    }),
    "scope": (rules.SCOPE, {
        "accepted": ["read", "a:b/c.d_e-f", "x" * 64, "READ"],
        "refused": ["", "has space", "x" * 65, "é", "read\n", "a,b"],
        "server": [],
    }),
    "origin": (rules.ORIGIN, {
        "accepted": ["10.0.0.1", "10.1.2.3/8", "2001:DB8::1", "::1", "::ffff:1.2.3.4",
                     "0.0.0.0/0", "::/0"],
        "refused": ["fe80::1%eth0", "10.0.0.0/255.0.0.0", " 10.0.0.1", "localhost",
                    "10.0.0.1\n", "", "1"],
        "server": ["1.2.3", "10.0.0.1/33", "::1/129", "999.1.1.1", "1:2:3"],
    }),
    "route": (rules.ROUTE, {
        "accepted": ["GET /api/**", "* /", "POST /api/items", "HEAD /a/*/b", "GET /café",
                     "DELETE /api/**/x", "GET /a:b/c.d_e-f~", "PATCH /" + "a" * 500],
        "refused": ["", "get /api", "GET", "GET api/x", "GET  /api", "GET /a b", "GET /a%2Fb",
                    "GET /a?x=1", "GET /a#b", "GET /a\\b", "GET /a\x00", "GET /api\n",
                    "/api/**", "G3T /x", "GET /" + "a" * 600, "GET /x\x85"],
        "server": ["GET /a/b*", "GET /***", "GET /a/**b", "GET /x/*y"],
    }),
    "expires_at": (rules.EXPIRES_AT, {
        "accepted": ["2099-01-31", "2099-01-31T12:00:00Z", "2099-01-01T00:00:00+02:00",
                     "2099-06-15T08:30:00-05:30", "2099-01-31T12:00:00", "2099-01-31 12:00",
                     "2099-01-31T12:00:00.123456Z", "2099-01-31T12:00:00+0530"],
        "refused": ["tomorrow", "20990131", "2099-W05-1", "2099-01-31T12:00:00z",
                    "2099-01-31T12:00:00+05", "2099-01-31\n", "2099-01-31T12", "",
                    "2099-01-31T12:00:00.1234567Z"],
        "server": ["2099-13-45", "2099-02-30", "2099-01-31T25:00:00Z",
                   "9999-12-31T23:59:59-23:59"],
    }),
}

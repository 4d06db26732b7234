"""Reading a page's inline scripts without running them: a JavaScript tokenizer, object literals, simple
expressions (string and number literals, `+ - * /`, `||`, names bound on the page), and the base64 payloads of
`atob(…)`.

Portals keep list configuration and pagers in scripts: TRS `listModel({listArgs: {channelid: SiteInfo.searchId,
…}})`, `var countPage = 3` with `document.write("<a href='index_" + i + ".html'>")`, Yunnan's
`document.write(window.atob("PGEg…"))`. The walkers read these from the bytes the server sent; nothing here
executes code or depends on what a browser would have written (docs/portals.md, CMS families and list pagination).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import html as lxml_html
from scrapy.http import Response


class _Unknown:
    """A value the page's bytes do not determine (a loop variable, a function call, a name bound elsewhere)."""

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()
MAX_SCRIPT = 400_000  # characters of one inline script that are read; minified libraries are not configuration
_JS_TYPES = re.compile(r"^(?:$|text/javascript|application/javascript|text/ecmascript|module$)", re.I)


@dataclass(frozen=True)
class Token:
    kind: str  # "str", "num", "name", "op"
    value: Any  # the unescaped text of a string, the number, the name or the operator
    nl: bool = False  # a line break before it (statements without semicolons end there)


_PUNCT = sorted(["===", "!==", ">>>", "...", "**", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=",
                 "-=", "*=", "/=", "=>", "<<", ">>"], key=len, reverse=True)
_REGEX_AFTER = {"(", ",", "=", ":", "[", "!", "&", "|", "?", "{", "}", ";", "&&", "||", "??", "==", "===", "!=",
                "!==", "+", "-", "*", "%", "<", ">", "<=", ">=", "=>", "+=", "-=", "return", "typeof", "case", "in",
                "of", "new", "delete", "void", "throw", "else", "do"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_$\u0080-\uffff][\w$\u0080-\uffff]*")


def tokenize(js: str) -> list[Token]:
    """The tokens of a script; comments dropped, strings unescaped, regular-expression literals skipped.
    Lenient: an unterminated string ends at its line, an unknown character is an operator of its own."""
    out: list[Token] = []
    i, n, nl = 0, len(js), False
    while i < n:
        c = js[i]
        if c in " \t\r\n\f\v\u00a0\ufeff\u2028\u2029":
            nl = nl or c in "\n\r\u2028\u2029"
            i += 1
            continue
        if js.startswith("//", i) or js.startswith("<!--", i) or (js.startswith("-->", i) and (nl or not out)):
            end = js.find("\n", i)
            i = n if end < 0 else end
            continue
        if js.startswith("/*", i):
            end = js.find("*/", i + 2)
            end = n if end < 0 else end + 2
            nl = nl or "\n" in js[i:end]
            i = end
            continue
        if c in "'\"`":
            value, i = _string(js, i)
            out.append(Token("str", value, nl))
        elif c.isdigit() or (c == "." and i + 1 < n and js[i + 1].isdigit()):
            m = _NUMBER.match(js, i)
            text = m.group() if m else c
            out.append(Token("num", int(text, 16) if text[:2].lower() == "0x" else _number(text), nl))
            i += len(text)
        elif m := _NAME.match(js, i):
            out.append(Token("name", m.group(), nl))
            i = m.end()
        elif c == "/" and (not out or (out[-1].kind == "op" and out[-1].value in _REGEX_AFTER)
                           or (out[-1].kind == "name" and out[-1].value in _REGEX_AFTER)):
            end = _regex_end(js, i)
            if end is None:
                out.append(Token("op", "/", nl))
                i += 1
            else:
                out.append(Token("regex", js[i:end], nl))
                i = end
        else:
            op = next((p for p in _PUNCT if js.startswith(p, i)), c)
            out.append(Token("op", op, nl))
            i += len(op)
        nl = False
    return out


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _string(js: str, i: int) -> tuple[str, int]:
    quote, i, n = js[i], i + 1, len(js)
    parts: list[str] = []
    while i < n:
        c = js[i]
        if c == quote:
            return "".join(parts), i + 1
        if c in "\r\n" and quote != "`":
            return "".join(parts), i
        if c == "\\" and i + 1 < n:
            e = js[i + 1]
            if e in "xu":
                m = (re.compile(r"x([0-9a-fA-F]{2})") if e == "x" else
                     re.compile(r"u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})")).match(js, i + 1)
                if m:
                    parts.append(chr(min(int(next(g for g in m.groups() if g), 16), 0x10FFFF)))
                    i = m.end()
                    continue
            if e == "\r" and js.startswith("\r\n", i + 1):
                i += 3
                continue
            if e not in "\r\n\u2028\u2029":
                parts.append(_ESCAPES.get(e, e))
            i += 2
            continue
        parts.append(c)
        i += 1
    return "".join(parts), n


def _regex_end(js: str, i: int) -> int | None:
    j, n, in_class = i + 1, len(js), False
    while j < n:
        c = js[j]
        if c in "\r\n":
            return None
        if c == "\\":
            j += 2
            continue
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            j += 1
            while j < n and (js[j].isalnum() or js[j] == "_"):
                j += 1
            return j
        j += 1
    return None


# ---------------------------------------------------------------------------------------------- the page's scripts
def inline_scripts(response: Response) -> list[str]:
    """The JavaScript of a page's inline `<script>` elements (not `type="text/xml"` data islands nor templates),
    each cut at MAX_SCRIPT characters. Cached on the response."""
    meta = getattr(response, "meta", None) if getattr(response, "request", None) is not None else None
    if meta is not None and "_nianbao_scripts" in meta:
        return meta["_nianbao_scripts"]
    text = getattr(response, "text", "")
    found: list[str] = []
    if "<script" in text.lower():
        try:
            doc = lxml_html.fromstring(text)
        except (ValueError, lxml_html.etree.ParserError):
            doc = None
        if doc is not None:
            for el in doc.iter("script"):
                if el.get("src") or not _JS_TYPES.match((el.get("type") or "").strip()):
                    continue
                if el.text and el.text.strip():
                    found.append(el.text[:MAX_SCRIPT])
    if meta is not None:
        meta["_nianbao_scripts"] = found
    return found


class Page:
    """The scripts of one page read together: their tokens, the names they bind (`var x = …`, `x = …`), the
    values of those names as far as the bytes determine them."""

    def __init__(self, scripts: list[str]) -> None:
        self.scripts = scripts
        self.tokens = [tokenize(s) for s in scripts]
        self._declared: dict[str, tuple[list[Token], int]] = {}  # var/let/const, the first one
        self._assigned: dict[str, tuple[list[Token], int]] = {}  # a plain `x = …`, the first one
        self._values: dict[str, Any] = {}
        self._varying: set[str] = set()  # loop variables and names changed by ++, --, +=, -=: no one value
        for toks in self.tokens:
            self._bind(toks)

    @classmethod
    def of(cls, response: Response) -> Page:
        meta = getattr(response, "meta", None) if getattr(response, "request", None) is not None else None
        if meta is not None and isinstance(meta.get("_nianbao_script_page"), Page):
            return meta["_nianbao_script_page"]
        page = cls(inline_scripts(response))
        if meta is not None:
            meta["_nianbao_script_page"] = page
        return page

    def _bind(self, toks: list[Token]) -> None:
        for i, t in enumerate(toks):
            if t.kind == "name" and (_is(toks[i + 1] if i + 1 < len(toks) else None, "++", "--", "+=", "-=", "*=")
                                     or _is(toks[i - 1] if i else None, "++", "--")):
                self._varying.add(t.value)
        for i in range(len(toks) - 2):
            name, eq = toks[i], toks[i + 1]
            if name.kind != "name" or eq.kind != "op" or eq.value != "=":
                continue
            before = toks[i - 1] if i else None
            if _is(before, ".", "?."):
                continue  # a property of something else
            head = i - 1 if before is not None and before.kind == "name" and before.value in ("var", "let") else i
            if head >= 2 and _is(toks[head - 1], "(") and toks[head - 2].kind == "name" and toks[head - 2].value == "for":
                self._varying.add(name.value)  # for (var i = 0; …): a loop variable
                continue
            # `var a = 1, b = 2` declares b too
            declared = (before is not None and before.kind == "name" and before.value in ("var", "let", "const")) \
                or _is(before, ",")
            (self._declared if declared else self._assigned).setdefault(name.value, (toks, i + 2))

    def names(self) -> list[str]:
        return list(dict.fromkeys([*self._declared, *self._assigned]))

    def value(self, path: str) -> Any:
        """The value of `name` or `name.key.key` (objects are dicts), or UNKNOWN."""
        head, *rest = path.split(".")
        if head in self._varying:
            return UNKNOWN
        if head not in self._values:
            self._values[head] = UNKNOWN  # a name defined by itself stays unknown
            where = self._declared.get(head) or self._assigned.get(head)
            if where is not None:
                self._values[head] = parse_value(where[0], where[1], self.value, statement=True)[0]
        value = self._values[head]
        for key in rest:
            if not isinstance(value, dict) or key not in value:
                return UNKNOWN
            value = value[key]
        return value

    def calls(self, callee: Callable[[str], bool]) -> list[tuple[list[Token], int]]:
        """Where a call's argument list starts (the token after `(`), for every call whose callee name (the last
        name before the parenthesis, `window.atob` → `atob`) satisfies `callee`."""
        out = []
        for toks in self.tokens:
            for i in range(len(toks) - 1):
                t = toks[i]
                if t.kind == "name" and toks[i + 1].kind == "op" and toks[i + 1].value == "(" and callee(t.value):
                    out.append((toks, i + 2))
        return out


def _is(tok: Token | None, *ops: str) -> bool:
    return tok is not None and tok.kind == "op" and tok.value in ops


def expression_end(toks: list[Token], i: int, statement: bool = False) -> int:
    """The index after the expression starting at `toks[i]`: at the first `,` `;` or unbalanced closing bracket
    at depth 0; for a statement also at a line break between two complete operands (no semicolon)."""
    depth, j = 0, i
    while j < len(toks):
        t = toks[j]
        if t.kind == "op":
            if t.value in "([{":
                depth += 1
            elif t.value in ")]}":
                if depth == 0:
                    return j
                depth -= 1
            elif depth == 0 and t.value in (",", ";"):
                return j
        if statement and depth == 0 and j > i and t.nl:
            prev = toks[j - 1]
            continues = (t.kind == "op" and t.value not in ("(", "[", "{", "!", "++", "--")) or (
                prev.kind == "op" and prev.value not in (")", "]", "}"))
            if not continues:
                return j
        j += 1
    return j


def parse_value(toks: list[Token], i: int, resolve: Callable[[str], Any] | None = None,
                statement: bool = False) -> tuple[Any, int]:
    """The value starting at `toks[i]`: an object literal (dict), an array literal (list), else an expression
    evaluated with `resolve` for names (UNKNOWN when the bytes do not determine it). Returns it and the index
    after it."""
    if i < len(toks) and _is(toks[i], "{"):
        obj, j = _object(toks, i, resolve)
        end = expression_end(toks, j, statement)
        return (obj if end == j else UNKNOWN), end
    if i < len(toks) and _is(toks[i], "["):
        arr, j = _array(toks, i, resolve)
        end = expression_end(toks, j, statement)
        return (arr if end == j else UNKNOWN), end
    end = expression_end(toks, i, statement)
    return evaluate(toks[i:end], resolve), end


def _object(toks: list[Token], i: int, resolve) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    j = i + 1
    while j < len(toks) and not _is(toks[j], "}"):
        key = toks[j]
        if _is(key, ","):
            j += 1
            continue
        if key.kind in ("name", "str", "num") and j + 1 < len(toks) and _is(toks[j + 1], ":"):
            value, j = parse_value(toks, j + 2, resolve)
            out.setdefault(str(key.value), value)
        else:  # a method, a spread, a computed key: skipped
            j = expression_end(toks, j + 1)
            if j < len(toks) and _is(toks[j], ")", "]"):
                j += 1
    return out, j + 1


def _array(toks: list[Token], i: int, resolve) -> tuple[list[Any], int]:
    out: list[Any] = []
    j = i + 1
    while j < len(toks) and not _is(toks[j], "]"):
        if _is(toks[j], ","):
            j += 1
            continue
        value, j = parse_value(toks, j, resolve)
        out.append(value)
        if j < len(toks) and _is(toks[j], ")", "}"):
            j += 1
    return out, j + 1


# ---------------------------------------------------------------------------------------------- expressions
def evaluate(toks: list[Token], resolve: Callable[[str], Any] | None = None) -> Any:
    """The value of a simple expression: literals, names (through `resolve`), `||` `&&` `??`, `+ - * / %`,
    unary `- + !`, parentheses, a ternary of known condition. Anything else is UNKNOWN."""
    if not toks:
        return UNKNOWN
    parser = _Expr(toks, resolve or (lambda _path: UNKNOWN))
    try:
        value = parser.ternary()
    except _Stop:
        return UNKNOWN
    return value if parser.i == len(toks) else UNKNOWN


class _Stop(Exception):
    pass


class _Expr:
    def __init__(self, toks: list[Token], resolve: Callable[[str], Any]) -> None:
        self.toks, self.resolve, self.i = toks, resolve, 0

    def peek(self, *ops: str) -> bool:
        return self.i < len(self.toks) and _is(self.toks[self.i], *ops)

    def ternary(self) -> Any:
        cond = self.logical()
        if not self.peek("?"):
            return cond
        self.i += 1
        yes = self.ternary()
        if not self.peek(":"):
            raise _Stop
        self.i += 1
        no = self.ternary()
        if cond is UNKNOWN:
            return UNKNOWN
        return yes if _truthy(cond) else no

    def logical(self) -> Any:
        left = self.additive()
        while self.peek("||", "&&", "??"):
            op = self.toks[self.i].value
            self.i += 1
            right = self.additive()
            if left is UNKNOWN:
                continue  # the whole stays unknown, the rest is still parsed
            if op == "||":
                left = left if _truthy(left) else right
            elif op == "&&":
                left = right if _truthy(left) else left
            else:
                left = right if left is None else left
        return left

    def additive(self) -> Any:
        left = self.multiplicative()
        while self.peek("+", "-"):
            op = self.toks[self.i].value
            self.i += 1
            right = self.multiplicative()
            left = _arith(op, left, right)
        return left

    def multiplicative(self) -> Any:
        left = self.unary()
        while self.peek("*", "/", "%"):
            op = self.toks[self.i].value
            self.i += 1
            left = _arith(op, left, self.unary())
        return left

    def unary(self) -> Any:
        if self.peek("-", "+", "!"):
            op = self.toks[self.i].value
            self.i += 1
            value = self.unary()
            if value is UNKNOWN:
                return UNKNOWN
            if op == "!":
                return not _truthy(value)
            number = _to_number(value)
            return UNKNOWN if number is UNKNOWN else (-number if op == "-" else number)
        return self.primary()

    def primary(self) -> Any:
        if self.i >= len(self.toks):
            raise _Stop
        t = self.toks[self.i]
        self.i += 1
        if t.kind in ("str", "num"):
            return t.value
        if _is(t, "("):
            value = self.ternary()
            if not self.peek(")"):
                raise _Stop
            self.i += 1
            return value
        if t.kind == "name":
            if t.value in ("true", "false"):
                return t.value == "true"
            if t.value in ("null", "undefined"):
                return None
            path = [t.value]
            while self.peek(".") and self.i + 1 < len(self.toks) and self.toks[self.i + 1].kind == "name":
                path.append(self.toks[self.i + 1].value)
                self.i += 2
            if self.peek("(", "["):
                raise _Stop  # a call or an index: not evaluated
            return self.resolve(".".join(path))
        raise _Stop


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and value is not UNKNOWN


def _to_number(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return _number(value.strip()) if value.strip() else 0
        except ValueError:
            return UNKNOWN
    return UNKNOWN


def _arith(op: str, left: Any, right: Any) -> Any:
    if left is UNKNOWN or right is UNKNOWN:
        return UNKNOWN
    if op == "+" and (isinstance(left, str) or isinstance(right, str)):
        return to_text(left) + to_text(right)
    a, b = _to_number(left), _to_number(right)
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if op in ("/", "%") and b == 0:
        return UNKNOWN
    value = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b, "%": lambda: a % b}[op]()
    return int(value) if isinstance(value, float) and value.is_integer() else value


def to_text(value: Any) -> str:
    """A value as JavaScript prints it into a string (`10`, not `10.0`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------------------------------------- base64 payloads
_BASE64 = re.compile(r"^[A-Za-z0-9+/\s]{16,}={0,2}$")


def decode_base64_text(data: str) -> str | None:
    """Markup hidden as base64 (`window.atob("PGEg…")`), as text; None when it is not base64 of text."""
    compact = re.sub(r"\s+", "", data)
    if not _BASE64.match(compact):
        return None
    try:
        raw = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    for codec in ("utf-8", "gb18030"):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        return text if text.isprintable() or "\n" in text or "<" in text else None
    return None


def atob_payloads(response: Response) -> list[str]:
    """The decoded arguments of the page's `atob(…)` calls (a string literal or a name bound to one), and, on a
    page that calls `atob`, the text of elements that is itself base64 of markup (`<div id="pages">PGEg…</div>`
    decoded by a script). Markup a browser would write, read from the bytes."""
    page = Page.of(response)
    out: list[str] = []
    calls = page.calls(lambda name: name == "atob")
    for toks, i in calls:
        value, _ = parse_value(toks, i, page.value)
        if isinstance(value, str) and (text := decode_base64_text(value)) is not None:
            out.append(text)
    text = getattr(response, "text", "")
    if calls or "atob" in text:
        try:
            doc = lxml_html.fromstring(text)
        except (ValueError, lxml_html.etree.ParserError):
            return out
        for el in doc.iter():
            if not isinstance(el.tag, str) or el.tag in ("script", "style") or len(el):
                continue
            candidate = (el.text or "").strip()
            if len(candidate) >= 16 and (decoded := decode_base64_text(candidate)) and "<" in decoded:
                out.append(decoded)
    return out

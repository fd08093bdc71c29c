"""Sluice's text form of row conditions, read into the same conditions as the JSON form.

A small recursive-descent grammar (keywords in any case; never `eval`):

    expr       := and ("OR" and)*
    and        := unary ("AND" unary)*
    unary      := "NOT" unary | "(" expr ")" | field predicate
    predicate  := op value | ["NOT"] "IN" "(" value ("," value)* ")" | "IS" ["NOT"] "NULL"
    op         := "=" | "==" | "!=" | "<>" | ">" | ">=" | "<" | "<="
    field      := name | "double-quoted name" | `backquoted name`
    value      := 'single-quoted text' ('' is a quote) | number | TRUE | FALSE

Errors name the 0-based position where the text stops making sense.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.mappers.conditions import Compare, Condition, ConditionError, Group, In, IsNull, Value

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
      | (?P<text>'(?:[^']|'')*')
      | (?P<quoted>"(?:[^"]|"")*"|`[^`]*`)
      | (?P<op>==|!=|<>|>=|<=|=|>|<)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.$-]*)
    )""",
    re.VERBOSE,
)
_OPS = {
    "=": "EQUAL",
    "==": "EQUAL",
    "!=": "NOT_EQUAL",
    "<>": "NOT_EQUAL",
    ">": "GREATER_THAN",
    ">=": "GREATER_THAN_OR_EQUAL",
    "<": "LESS_THAN",
    "<=": "LESS_THAN_OR_EQUAL",
}
_KEYWORDS = {"AND", "OR", "NOT", "IN", "IS", "NULL", "TRUE", "FALSE"}


@dataclass(frozen=True)
class _Token:
    kind: str  # number, text, quoted, op, punct, word, end
    text: str
    position: int

    def keyword(self) -> str | None:
        upper = self.text.upper()
        return upper if self.kind == "word" and upper in _KEYWORDS else None

    def shown(self) -> str:
        return "the end of the expression" if self.kind == "end" else repr(self.text)


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            tokens.append(_Token("end", "", position))
            return tokens
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise ConditionError(
                f"unexpected character {text[position]!r} at position {position}", position
            )
        start = match.start(match.lastgroup)
        tokens.append(_Token(match.lastgroup, match.group(match.lastgroup), start))
        position = match.end()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def fail(self, expected: str) -> ConditionError:
        token = self.current
        return ConditionError(
            f"expected {expected} at position {token.position}, found {token.shown()}",
            token.position,
        )

    def take_keyword(self, word: str) -> bool:
        if self.current.keyword() == word:
            self.index += 1
            return True
        return False

    def take_punct(self, mark: str) -> bool:
        token = self.current
        if token.kind == "punct" and token.text == mark:
            self.index += 1
            return True
        return False

    def parse(self) -> Condition:
        if self.current.kind == "end":
            raise self.fail("a condition")
        condition = self.expr()
        if self.current.kind != "end":
            raise self.fail("AND, OR or the end of the expression")
        return condition

    def expr(self) -> Condition:
        parts = [self.conjunction()]
        while self.take_keyword("OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Group("OR", tuple(parts))

    def conjunction(self) -> Condition:
        parts = [self.unary()]
        while self.take_keyword("AND"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Group("AND", tuple(parts))

    def unary(self) -> Condition:
        if self.take_keyword("NOT"):
            return Group("NOT", (self.unary(),))
        if self.take_punct("("):
            inner = self.expr()
            if not self.take_punct(")"):
                raise self.fail("')'")
            return inner
        return self.predicate(self.field())

    def field(self) -> str:
        token = self.current
        if token.kind == "word" and token.keyword() is None:
            self.index += 1
            return token.text
        if token.kind == "quoted":
            self.index += 1
            quote = token.text[0]
            return token.text[1:-1].replace(quote * 2, quote) if quote == '"' else token.text[1:-1]
        raise self.fail("a field name")

    def predicate(self, field: str) -> Condition:
        token = self.current
        if token.kind == "op":
            self.index += 1
            return Compare(_OPS[token.text], field, self.value())
        if self.take_keyword("IS"):
            negated = self.take_keyword("NOT")
            if not self.take_keyword("NULL"):
                raise self.fail("NULL")
            check = IsNull(field)
            return Group("NOT", (check,)) if negated else check
        negated = self.take_keyword("NOT")
        if self.take_keyword("IN"):
            if not self.take_punct("("):
                raise self.fail("'(' after IN")
            values = [self.value()]
            while self.take_punct(","):
                values.append(self.value())
            if not self.take_punct(")"):
                raise self.fail("',' or ')'")
            found = In(field, tuple(values))
            return Group("NOT", (found,)) if negated else found
        raise self.fail("IN" if negated else "a comparison (=, !=, >, >=, <, <=), IN or IS")

    def value(self) -> Value:
        token = self.current
        if token.kind == "text":
            self.index += 1
            return token.text[1:-1].replace("''", "'")
        if token.kind == "number":
            self.index += 1
            number = float(token.text)
            is_int = re.fullmatch(r"-?\d+", token.text) is not None
            return int(token.text) if is_int else number
        keyword = token.keyword()
        if keyword in ("TRUE", "FALSE"):
            self.index += 1
            return keyword == "TRUE"
        raise self.fail("a value ('text', a number, TRUE or FALSE)")


def parse_text(text: str) -> Condition:
    """A condition in the text form; ConditionError says where it is wrong."""
    return _Parser(text).parse()

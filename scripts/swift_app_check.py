#!/usr/bin/env python3
"""Checks the iOS app's Swift that cannot be compiled here (SwiftUI, Apple-only glue).

  1. Every hand-written .swift file given parses with tree-sitter-swift.
  2. Every name the app target uses (members after a dot, called functions and types, argument
     labels) is declared somewhere it can come from: MeadowKit's compiled module (its symbol
     graph, which a rename changes), the app's own files, or ios/apple-api.txt, the Apple SDK
     names the app uses. The list never holds a name MeadowKit declares (a rename there would
     go unnoticed), so a MeadowKit symbol the app calls that is renamed or removed fails here.
  3. Every fixed text a view shows (the first string literal of Text, Button, Label, Toggle,
     TextField, Section, Picker, navigationTitle, accessibilityLabel, ...) is a key of the app's
     String Catalog (ios/Meadow/Resources/Localizable.xcstrings) with a German translation.

Usage: swift_app_check.py --symbols DIR FILE...   (DIR: the symbol graphs `swift build
-emit-symbol-graph` wrote). --self-test also proves that a removed MeadowKit name is caught.
"""

import argparse
import json
import os
import re
import sys

import tree_sitter
import tree_sitter_swift

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP_DIRS = ("ios/Meadow/", "ios/MeadowUITests/")
CATALOG = "ios/Meadow/Resources/Localizable.xcstrings"
APPLE_API = "ios/apple-api.txt"
# Calls whose first string literal is a text a person reads (SwiftUI looks it up as a key).
LOCALIZED_CALLS = {
    "Text", "Button", "Label", "Toggle", "TextField", "SecureField", "Section", "Picker", "Menu",
    "navigationTitle", "accessibilityLabel", "accessibilityHint", "LabeledContent", "ContentUnavailableView",
    "confirmationDialog", "alert", "Link", "ShareLink", "DatePicker", "Stepper", "GroupBox", "Tab",
}
# Words of the language itself that parse as identifiers.
SWIFT = {
    "self", "Self", "super", "init", "deinit", "some", "any", "true", "false", "nil", "_", "get", "set",
    "willSet", "didSet", "async", "await", "try", "throws", "rethrows", "in", "inout", "isolated", "sending",
}

parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))


def parse(path):
    with open(path, "rb") as f:
        return parser.parse(f.read())


def first_error(node):
    if node.type == "ERROR" or node.is_missing:
        return node
    for c in node.children:
        e = first_error(c)
        if e is not None:
            return e
    return None


def walk(node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def text(node):
    return node.text.decode("utf-8")


def declared_and_used(tree):
    """Names the file declares, and the names it uses with where (line)."""
    declared, used = set(), []
    for n in walk(tree.root_node):
        for i, c in enumerate(n.children):
            field = n.field_name_for_child(i)
            if field in ("name", "bound_identifier", "external_name") and c.type in (
                "simple_identifier", "type_identifier"
            ):
                declared.add(text(c))
        if n.type in ("pattern", "lambda_parameter", "enum_entry", "typealias_declaration", "associatedtype_declaration"):
            for c in walk(n):
                if c.type in ("simple_identifier", "type_identifier"):
                    declared.add(text(c))
        if n.type == "navigation_suffix":
            s = n.child_by_field_name("suffix")
            if s is not None and s.type == "simple_identifier":
                used.append((text(s), s.start_point[0] + 1))
        elif n.type == "call_expression" and n.children and n.children[0].type == "simple_identifier":
            used.append((text(n.children[0]), n.children[0].start_point[0] + 1))
        elif n.type == "user_type":
            for c in n.children:
                if c.type == "type_identifier":
                    used.append((text(c), c.start_point[0] + 1))
        elif n.type == "value_argument_label":
            for c in n.children:
                if c.type == "simple_identifier":
                    used.append((text(c), c.start_point[0] + 1))
    return declared, used


def localized_literals(tree):
    """(literal, line) for each fixed text passed first to a call SwiftUI localizes."""
    out = []
    for n in walk(tree.root_node):
        if n.type != "call_expression" or not n.children:
            continue
        callee = n.children[0]
        if callee.type == "navigation_expression":
            suffix = callee.child_by_field_name("suffix")
            name = text(suffix.child_by_field_name("suffix")) if suffix is not None and suffix.child_by_field_name("suffix") is not None else ""
        elif callee.type == "simple_identifier":
            name = text(callee)
        else:
            continue
        if name not in LOCALIZED_CALLS:
            continue
        suffix = next((c for c in n.children if c.type == "call_suffix"), None)
        args = next((c for c in suffix.children if c.type == "value_arguments"), None) if suffix else None
        if args is None:
            continue
        first = next((c for c in args.children if c.type == "value_argument"), None)
        if first is None or any(c.type == "value_argument_label" for c in first.children):
            continue
        lit = next((c for c in first.children if c.type == "line_string_literal"), None)
        if lit is None or any(c.type == "interpolated_expression" for c in lit.children):
            continue
        value = "".join(text(c) for c in lit.children if c.type in ("line_str_text", "str_escaped_char"))
        value = value.replace('\\"', '"').replace("\\\\", "\\")
        if value.strip():
            out.append((value, lit.start_point[0] + 1))
    return out


def meadowkit_names(symbols_dir):
    names = set()
    for module in ("MeadowKit", "MeadowBindings"):
        path = os.path.join(symbols_dir, f"{module}.symbols.json")
        with open(path) as f:
            graph = json.load(f)
        for s in graph["symbols"]:
            title = s["names"]["title"]
            base = title.split("(")[0]
            names.add(base)
            # Argument labels are part of a function's name.
            m = re.search(r"\((.*)\)", title)
            if m:
                names.update(l for l in m.group(1).split(":") if l and l != "_")
    return names


def check_names(app_files, mk, apple):
    declared, uses = set(), []
    for path in app_files:
        d, u = declared_and_used(parse(path))
        declared |= d
        uses.extend((name, path, line) for name, line in u)
    problems = []
    for name, path, line in uses:
        if name in SWIFT or name in declared or name in mk or name in apple:
            continue
        problems.append(f"{os.path.relpath(path, REPO)}:{line}: `{name}` is not declared by MeadowKit, the app or {APPLE_API}")
    return problems, ({n for n, _, _ in uses} & mk) - declared - apple - SWIFT


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbols", required=True)
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    files = [os.path.join(REPO, f) if not os.path.isabs(f) else f for f in args.files]
    problems = []

    for path in files:
        err = first_error(parse(path).root_node)
        if err is not None:
            r, c = err.start_point
            problems.append(f"{os.path.relpath(path, REPO)}:{r + 1}:{c + 1}: does not parse (tree-sitter-swift)")

    app_files = [p for p in files if os.path.relpath(p, REPO).startswith(APP_DIRS)]
    if not app_files:
        problems.append("no files of the app target (ios/Meadow) were given")
    mk = meadowkit_names(args.symbols)
    with open(os.path.join(REPO, APPLE_API)) as f:
        apple = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    shadowing = sorted(apple & mk)
    if shadowing:
        problems.append(f"{APPLE_API} lists names MeadowKit declares (a rename would go unnoticed): {', '.join(shadowing)}")
    name_problems, from_mk = check_names(app_files, mk, apple)
    problems += name_problems

    if args.self_test:
        # Take away each MeadowKit name the app uses, one at a time: each must be reported.
        missed = [n for n in sorted(from_mk) if not check_names(app_files, mk - {n}, apple)[0]]
        if missed or not from_mk:
            problems.append(f"self-test: removing these MeadowKit names went unnoticed: {missed}")
        else:
            print(f"swift app check: self-test ok ({len(from_mk)} MeadowKit names the app uses, each caught when removed)")

    with open(os.path.join(REPO, CATALOG)) as f:
        catalog = json.load(f)["strings"]
    texts = 0
    for path in app_files:
        if not os.path.relpath(path, REPO).startswith("ios/Meadow/"):
            continue
        for value, line in localized_literals(parse(path)):
            texts += 1
            entry = catalog.get(value)
            de = (((entry or {}).get("localizations") or {}).get("de") or {}).get("stringUnit", {}).get("value", "")
            if entry is None:
                problems.append(f"{os.path.relpath(path, REPO)}:{line}: \"{value}\" is not in {CATALOG}")
            elif not de.strip():
                problems.append(f"{os.path.relpath(path, REPO)}:{line}: \"{value}\" has no German in {CATALOG}")

    for p in problems:
        print(p)
    if problems:
        print(f"swift app check: {len(problems)} problems")
        return 1
    print(
        f"swift app check: ok ({len(files)} files parse, {len(app_files)} app files use {len(from_mk)} MeadowKit "
        f"names that all exist, {texts} texts in the String Catalog with German)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

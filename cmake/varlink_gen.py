#!/usr/bin/env python3
"""Generates netd's C++ view of its Varlink interfaces from lib/varlink/*.varlink.

For each interface: a header (lib/varlink/api/<name>.h) with one struct per `type` and per
method's parameters (`<Method>In`), a tag type per method naming it, its parameter and reply
schemas and a decoder; one source file with the schemas, the decoders, the method registry and
the IDL texts served by org.varlink.service.GetInterfaceDescription.

The IDL is the single source of a method's shape: the server validates every request against
the generated schema before dispatch, and handlers read the typed struct. Only what netd's
interfaces use is accepted (bool, int, float, string, object, named types, ?T, []T, [string]T);
anything else stops the build with the file and line, rather than being served unchecked.

Usage: varlink_gen.py OUTPUT_DIR IDL_FILE...
Files are rewritten only when their content changes, so an unchanged IDL rebuilds nothing.
"""

import os
import re
import sys

PRIMITIVES = {"bool", "int", "float", "string", "object"}


class IdlError(Exception):
    pass


class TypeRef:
    """A field's type: a primitive or named type, possibly optional, array or string map."""

    def __init__(self, base, optional=False, container=None):
        self.base = base  # "string", "int", ... or a type name in the same interface
        self.optional = optional
        self.container = container  # None, "array" or "map"


class Field:
    def __init__(self, name, type_ref, line):
        self.name = name
        self.type = type_ref
        self.line = line


class Interface:
    def __init__(self, path):
        self.path = path
        self.name = None
        self.types = []  # (name, [Field])
        self.methods = []  # (name, [Field] in, [Field] out)
        self.errors = []  # (name, [Field])
        self.text = None


TOKEN = re.compile(r"(#[^\n]*)|(->)|([A-Za-z_][A-Za-z0-9_.]*)|([()\[\]?:,])")


def tokenize(text, path):
    tokens = []  # (value, line)
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            return tokens
        line = text.count("\n", 0, pos) + 1
        m = TOKEN.match(text, pos)
        if not m:
            raise IdlError(f"{path}:{line}: unexpected character {text[pos]!r}")
        pos = m.end(0)
        if not m.group(1):  # not a comment
            tokens.append((m.group(2) or m.group(3) or m.group(4), line))


class Parser:
    def __init__(self, tokens, path):
        self.tokens = tokens
        self.i = 0
        self.path = path

    def where(self):
        line = self.tokens[min(self.i, len(self.tokens) - 1)][1] if self.tokens else 1
        return f"{self.path}:{line}"

    def peek(self):
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self, expected=None):
        if self.i >= len(self.tokens):
            raise IdlError(f"{self.where()}: unexpected end of file" + (f", expected {expected!r}" if expected else ""))
        value, _ = self.tokens[self.i]
        if expected is not None and value != expected:
            raise IdlError(f"{self.where()}: expected {expected!r}, found {value!r}")
        self.i += 1
        return value

    def identifier(self, what):
        value = self.take()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise IdlError(f"{self.where()}: expected {what}, found {value!r}")
        return value

    def type_ref(self):
        optional = False
        if self.peek() == "?":
            self.take("?")
            optional = True
        container = None
        if self.peek() == "[":
            self.take("[")
            if self.peek() == "]":
                container = "array"
            else:
                key = self.take()
                if key != "string":
                    raise IdlError(f"{self.where()}: map keys must be string, found {key!r}")
                container = "map"
            self.take("]")
        if self.peek() in ("?", "[", "("):
            raise IdlError(f"{self.where()}: nested optional, nested containers and inline types/enums are "
                           "not supported by netd's generator; declare a named type")
        base = self.identifier("a type")
        return TypeRef(base, optional, container)

    def fields(self):
        self.take("(")
        out = []
        if self.peek() == ")":
            self.take(")")
            return out
        while True:
            line = self.tokens[self.i][1] if self.i < len(self.tokens) else 0
            name = self.identifier("a field name")
            if self.peek() != ":":
                raise IdlError(f"{self.where()}: enum types are not supported by netd's generator")
            self.take(":")
            out.append(Field(name, self.type_ref(), line))
            if self.peek() == ",":
                self.take(",")
                continue
            self.take(")")
            return out

    def interface(self, iface):
        self.take("interface")
        iface.name = self.take()
        if not re.fullmatch(r"[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+", iface.name):
            raise IdlError(f"{self.where()}: {iface.name!r} is not a Varlink interface name")
        while self.peek() is not None:
            keyword = self.take()
            if keyword == "type":
                iface.types.append((self.identifier("a type name"), self.fields()))
            elif keyword == "method":
                name = self.identifier("a method name")
                params = self.fields()
                self.take("->")
                iface.methods.append((name, params, self.fields()))
            elif keyword == "error":
                iface.errors.append((self.identifier("an error name"), self.fields()))
            else:
                raise IdlError(f"{self.where()}: expected type, method or error, found {keyword!r}")


def check_names(iface):
    known = {name for name, _ in iface.types}
    seen = set()
    for kind, items in (("type", iface.types), ("error", iface.errors)):
        for name, _ in items:
            if name in seen:
                raise IdlError(f"{iface.path}: {kind} {name} is declared twice")
            seen.add(name)
    for name, _, _ in iface.methods:
        if name in seen:
            raise IdlError(f"{iface.path}: method {name} is declared twice or clashes with a type")
        seen.add(name)
    members = [fields for _, fields in iface.types] + [f for _, i, o in iface.methods for f in (i, o)] + \
              [fields for _, fields in iface.errors]
    for fields in members:
        names = set()
        for f in fields:
            if f.name in names:
                raise IdlError(f"{iface.path}:{f.line}: field {f.name} appears twice")
            names.add(f.name)
            if f.type.base not in PRIMITIVES and f.type.base not in known:
                raise IdlError(f"{iface.path}:{f.line}: unknown type {f.type.base!r}")


def parse(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    iface = Interface(path)
    iface.text = text
    Parser(tokenize(text, path), path).interface(iface)
    expected = os.path.basename(path)[: -len(".varlink")]
    if iface.name != expected:
        raise IdlError(f"{path}: declares interface {iface.name}, the file name says {expected}")
    check_names(iface)
    return iface


# ---- C++ output ----------------------------------------------------------------------------

def namespace_of(iface_name):
    """io.netd.Routes -> routes; io.netd -> netd; org.varlink.service -> org_varlink_service."""
    if iface_name.startswith("io.netd."):
        rest = iface_name[len("io.netd."):]
    elif iface_name == "io.netd":
        rest = "netd"
    else:
        rest = iface_name
    return re.sub(r"[^a-z0-9]", "_", rest.lower())


def header_name(iface_name):
    return namespace_of(iface_name) + ".h"


# Varlink field names that are C++ keywords get a trailing underscore as struct members.
CPP_KEYWORDS = {"alignas", "alignof", "and", "asm", "auto", "bool", "break", "case", "catch", "char", "class",
                "const", "constexpr", "continue", "default", "delete", "do", "double", "else", "enum", "explicit",
                "export", "extern", "false", "float", "for", "friend", "goto", "if", "inline", "int", "long",
                "mutable", "namespace", "new", "noexcept", "not", "nullptr", "operator", "or", "private",
                "protected", "public", "register", "return", "short", "signed", "sizeof", "static", "struct",
                "switch", "template", "this", "throw", "true", "try", "typedef", "typeid", "typename", "union",
                "unsigned", "using", "virtual", "void", "volatile", "while"}


def member(name):
    return name + "_" if name in CPP_KEYWORDS else name


def cpp_base(base):
    return {"bool": "bool", "int": "int64_t", "float": "double", "string": "std::string",
            "object": "nlohmann::json"}.get(base, base)


def cpp_type(t):
    inner = cpp_base(t.base)
    if t.container == "array":
        inner = f"std::vector<{inner}>"
    elif t.container == "map":
        inner = f"std::map<std::string, {inner}>"
    return f"std::optional<{inner}>" if t.optional else inner


def kind_enum(base):
    return {"bool": "kBool", "int": "kInt", "float": "kFloat", "string": "kString",
            "object": "kObject"}.get(base, "kStruct")


def cpp_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def raw_string(text):
    delim = "IDL"
    while f"){delim}\"" in text:
        delim += "_"
    return f'R"{delim}({text}){delim}"'


def emit_header(iface):
    ns = namespace_of(iface.name)
    out = [f"// Generated from {os.path.basename(iface.path)} by cmake/varlink_gen.py. Do not edit.",
           "#pragma once", "",
           "#include <nlohmann/json.hpp>", "",
           "#include <cstdint>", "#include <map>", "#include <optional>", "#include <string>",
           "#include <string_view>", "#include <vector>", "",
           '#include "lib/varlink/schema.h"', "",
           f"namespace netd::api::{ns} {{", "",
           f"inline constexpr std::string_view kInterface = {cpp_string(iface.name)};", ""]
    # Types in declaration order; a type used before its declaration needs reordering.
    order = order_types(iface)
    for name, fields in order:
        out.append(f"struct {name} {{")
        for f in fields:
            out.append(f"  {cpp_type(f.type)} {member(f.name)}{{}};")
        out.append("};")
        out.append(f"{name} decode_{name}(const nlohmann::json& validated);")
        out.append("")
    for name, params, _ in iface.methods:
        out.append(f"struct {name}In {{")
        for f in params:
            out.append(f"  {cpp_type(f.type)} {member(f.name)}{{}};")
        out.append("};")
        out.append(f"struct {name} {{")
        out.append(f"  static constexpr std::string_view kName = {cpp_string(iface.name + '.' + name)};")
        out.append(f"  using In = {name}In;")
        out.append("  static const varlink::MethodSchema& schema();")
        out.append("  // From parameters varlink::validate accepted against schema().in (else it throws).")
        out.append("  static In decode(const nlohmann::json& validated);")
        out.append("};")
        out.append("")
    out.append(f"}}  // namespace netd::api::{ns}")
    out.append("")
    return "\n".join(out)


def order_types(iface):
    by_name = dict(iface.types)
    done, result, visiting = set(), [], set()

    def visit(name):
        if name in done:
            return
        if name in visiting:
            raise IdlError(f"{iface.path}: type {name} contains itself (recursive types are not supported)")
        visiting.add(name)
        for f in by_name[name]:
            if f.type.base in by_name:
                visit(f.type.base)
        visiting.discard(name)
        done.add(name)
        result.append((name, by_name[name]))

    for name, _ in iface.types:
        visit(name)
    return result


def schema_ident(iface, type_name):
    return f"k{namespace_of(iface.name).title().replace('_', '')}_{type_name}"


def emit_fields(iface, ident, fields):
    lines = []
    if fields:
        lines.append(f"const varlink::FieldSchema {ident}_fields[] = {{")
        for f in fields:
            nested = f"&{schema_ident(iface, f.type.base)}" if kind_enum(f.type.base) == "kStruct" else "nullptr"
            container = {"array": "kArray", "map": "kMap"}.get(f.type.container, "kNone")
            lines.append(f"    {{{cpp_string(f.name)}, varlink::ValueKind::{kind_enum(f.type.base)}, "
                         f"varlink::Container::{container}, {'true' if f.type.optional else 'false'}, {nested}}},")
        lines.append("};")
        span = f"{ident}_fields"
    else:
        span = "{}"
    return lines, span


def decode_expr(iface, base, src):
    if base == "object":
        return src
    if base in PRIMITIVES:
        return f"{src}.get<{cpp_base(base)}>()"
    return f"decode_{base}({src})"


def emit_decoder(iface, struct, fields, fn):
    lines = [f"{struct} {fn}([[maybe_unused]] const nlohmann::json& j) {{", f"  {struct} v;"]
    for f in fields:
        m = member(f.name)
        key = cpp_string(f.name)
        t = f.type
        if t.container == "array":
            value = ("[&] { " + f"std::vector<{cpp_base(t.base)}> a; for (const auto& e : it.value()) "
                     f"a.push_back({decode_expr(iface, t.base, 'e')}); return a; }}()")
        elif t.container == "map":
            value = ("[&] { " + f"std::map<std::string, {cpp_base(t.base)}> a; for (const auto& [k, e] : "
                     f"it.value().items()) a.emplace(k, {decode_expr(iface, t.base, 'e')}); return a; }}()")
        else:
            value = decode_expr(iface, t.base, "it.value()")
        if t.optional:
            lines.append(f"  if (auto it = j.find({key}); it != j.end()) v.{m} = {value};")
        else:
            lines.append(f"  {{ auto it = j.find({key}); v.{m} = {value}; }}")  # validated: present
    lines.append("  return v;")
    lines.append("}")
    return lines


def emit_source(ifaces):
    out = ["// Generated from lib/varlink/*.varlink by cmake/varlink_gen.py. Do not edit.",
           '#include "lib/varlink/idl.h"', '#include "lib/varlink/schema.h"']
    for iface in ifaces:
        out.append(f'#include "lib/varlink/api/{header_name(iface.name)}"')
    out.append("")
    for iface in ifaces:
        ns = namespace_of(iface.name)
        out.append(f"namespace netd::api::{ns} {{")
        out.append("namespace {")
        for name, fields in order_types(iface):
            ident = schema_ident(iface, name)
            lines, span = emit_fields(iface, ident, fields)
            out += lines
            out.append(f"const varlink::TypeSchema {ident}{{{cpp_string(name)}, {span}}};")
        for name, params, results in iface.methods:
            for suffix, fields in (("In", params), ("Out", results)):
                ident = schema_ident(iface, name + suffix)
                lines, span = emit_fields(iface, ident, fields)
                out += lines
                out.append(f"const varlink::TypeSchema {ident}{{{cpp_string(name + suffix)}, {span}}};")
        out.append("}  // namespace")
        out.append("")
        for name, fields in order_types(iface):
            out += emit_decoder(iface, name, fields, f"decode_{name}")
        for name, params, _ in iface.methods:
            out.append(f"const varlink::MethodSchema& {name}::schema() {{")
            out.append(f"  static const varlink::MethodSchema s{{kName, &{schema_ident(iface, name + 'In')}, "
                       f"&{schema_ident(iface, name + 'Out')}}};")
            out.append("  return s;")
            out.append("}")
            out += emit_decoder(iface, f"{name}In", params, f"{name}::decode")
        out.append(f"}}  // namespace netd::api::{ns}")
        out.append("")
    out.append("namespace netd::varlink {")
    out.append("")
    out.append("const std::vector<InterfaceDescription> kInterfaceDescriptions = {")
    for iface in ifaces:
        out.append(f"    {{{cpp_string(iface.name)}, {raw_string(iface.text)}}},")
    out.append("};")
    out.append("")
    out.append("const std::vector<const MethodSchema*>& all_method_schemas() {")
    out.append("  static const std::vector<const MethodSchema*> all = {")
    for iface in ifaces:
        ns = namespace_of(iface.name)
        for name, _, _ in iface.methods:
            out.append(f"      &api::{ns}::{name}::schema(),")
    out.append("  };")
    out.append("  return all;")
    out.append("}")
    out.append("")
    out.append("}  // namespace netd::varlink")
    out.append("")
    return "\n".join(out)


def write_if_changed(path, content):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == content:
                return
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(content)
    os.replace(tmp, path)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: varlink_gen.py OUTPUT_DIR IDL_FILE...\n")
        return 2
    out_dir = argv[1]
    try:
        ifaces = sorted((parse(p) for p in argv[2:]), key=lambda i: i.name)
        names = [i.name for i in ifaces]
        if len(set(names)) != len(names):
            raise IdlError("an interface is declared by two files")
        for iface in ifaces:
            write_if_changed(os.path.join(out_dir, "lib/varlink/api", header_name(iface.name)), emit_header(iface))
        write_if_changed(os.path.join(out_dir, "varlink_api.cc"), emit_source(ifaces))
    except IdlError as e:
        sys.stderr.write(f"varlink_gen.py: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""cmake/varlink_gen.py on small IDL files: what it generates, and the IDL it refuses (with the
file and line), so a construct netd cannot validate never reaches the server unchecked."""

import os
import subprocess
import sys
import tempfile
import unittest

GEN = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../cmake/varlink_gen.py")


def run(files):
    """files: {name: text}. Returns (exit code, stderr, {generated path: text})."""
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for name, text in files.items():
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write(text)
            paths.append(p)
        out = os.path.join(d, "out")
        r = subprocess.run([sys.executable, GEN, out] + paths, capture_output=True, text=True)
        generated = {}
        for root, _, names in os.walk(out):
            for n in names:
                with open(os.path.join(root, n)) as f:
                    generated[os.path.relpath(os.path.join(root, n), out)] = f.read()
        return r.returncode, r.stderr, generated


EXAMPLE = """# An example.
interface io.netd.Example

type Thing (
  # a comment inside
  name: string,
  size: ?int,
  tags: []string,
  labels: [string]string,
  ratio: float,
  extra: object
)

method Put(
  thing: Thing,
  things: ?[]Thing,
  dry_run: ?bool
) -> (count: int)

method Ping() -> ()

error Broken (reason: string)
"""


class Generates(unittest.TestCase):
    def test_structs_schemas_and_text(self):
        code, err, out = run({"io.netd.Example.varlink": EXAMPLE})
        self.assertEqual(code, 0, err)
        h = out["lib/varlink/api/example.h"]
        self.assertIn("namespace netd::api::example {", h)
        self.assertIn("struct Thing {", h)
        self.assertIn("std::optional<int64_t> size{};", h)
        self.assertIn("std::vector<std::string> tags{};", h)
        self.assertIn("std::map<std::string, std::string> labels{};", h)
        self.assertIn("double ratio{};", h)
        self.assertIn("nlohmann::json extra{};", h)
        self.assertIn("std::optional<std::vector<Thing>> things{};", h)
        self.assertIn('static constexpr std::string_view kName = "io.netd.Example.Put";', h)
        cc = out["varlink_api.cc"]
        self.assertIn('{"size", varlink::ValueKind::kInt, varlink::Container::kNone, true, nullptr}', cc)
        self.assertIn('{"things", varlink::ValueKind::kStruct, varlink::Container::kArray, true, &kExample_Thing}', cc)
        self.assertIn("&api::example::Ping::schema(),", cc)
        # The IDL text is served byte for byte.
        self.assertIn('R"IDL(' + EXAMPLE + ')IDL"', cc)

    def test_unchanged_output_is_not_rewritten(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "io.netd.Example.varlink")
            with open(p, "w") as f:
                f.write(EXAMPLE)
            out = os.path.join(d, "out")
            subprocess.run([sys.executable, GEN, out, p], check=True)
            header = os.path.join(out, "lib/varlink/api/example.h")
            os.utime(header, (1, 1))
            subprocess.run([sys.executable, GEN, out, p], check=True)
            self.assertEqual(os.stat(header).st_mtime, 1)


class Refuses(unittest.TestCase):
    def refused(self, text, expect, name="io.netd.Example.varlink"):
        code, err, _ = run({name: text})
        self.assertEqual(code, 1)
        self.assertIn(expect, err)

    def test_unknown_type(self):
        self.refused("interface io.netd.Example\nmethod A(x: Nope) -> ()\n", ".varlink:2: unknown type 'Nope'")

    def test_enum(self):
        self.refused("interface io.netd.Example\ntype E (a, b)\n", "enum types are not supported")

    def test_inline_struct(self):
        self.refused("interface io.netd.Example\nmethod A(x: (y: int)) -> ()\n", "declare a named type")

    def test_nested_containers(self):
        self.refused("interface io.netd.Example\nmethod A(x: [][]int) -> ()\n", "nested")

    def test_file_name_must_match(self):
        self.refused("interface io.netd.Other\n", "declares interface io.netd.Other")

    def test_duplicate_field(self):
        self.refused("interface io.netd.Example\nmethod A(x: int,\n x: int) -> ()\n", ":3: field x appears twice")

    def test_duplicate_method(self):
        self.refused("interface io.netd.Example\nmethod A() -> ()\nmethod A() -> ()\n", "method A is declared twice")

    def test_garbage(self):
        self.refused("interface io.netd.Example\nmethod A() -> () $\n", ":2: unexpected character '$'")

    def test_missing_arrow(self):
        self.refused("interface io.netd.Example\nmethod A() ()\n", "expected '->'")


if __name__ == "__main__":
    unittest.main()

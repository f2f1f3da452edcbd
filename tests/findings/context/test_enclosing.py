"""The enclosing block of a line, by language: braces, indentation, signatures."""

from __future__ import annotations

import pytest

from vulntune.findings.context.enclosing import enclosing_block

ENCLOSING_CASES = [
    ("a.go", ["package m", "", "func (s *S) Handle(w W, r *R) {", "\tif r != nil {",
              '\t\tx := map[string]int{"a": 1}', "\t\tuse(x)", "\t}", "}"],
     6, "func (s *S) Handle(w W, r *R)"),
    ("a.js", ['const e = require("e");', 'app.get("/x", async (req, res) => {',
              "  const { a } = req.query;", "  res.send(eval(a));", "});"],
     4, 'app.get("/x", async (req, res) =>'),
    ("main.tf", ['resource "aws_s3_bucket" "b" {', '  bucket = "x"', "  versioning {",
                 "    enabled = false", "  }", "}"],
     4, 'resource "aws_s3_bucket" "b"'),
    ("a.cs", ["namespace X", "{", "    public class C", "    {", "        public void M(int a)",
              "        {", "            var x = 1;", "        }", "    }", "}"],
     7, "public void M(int a)"),
    ("a.rb", ["class A", "  def run(x)", "    system(x)", "  end", "end"], 3, "def run(x)"),
    ("a.py", ["x = 1", "y = 2"], 2, None),
    ("a.yaml", ["a:", "  b: 1"], 2, None),
]  # fmt: skip


@pytest.mark.parametrize(("name", "lines", "line", "expected"), ENCLOSING_CASES)
def test_enclosing_block_heuristics(name, lines, line, expected):
    assert enclosing_block(name, lines, line) == expected

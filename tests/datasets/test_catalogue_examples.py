"""The CWE catalogue as a teacher: bad code classified, bad/good pairs as diffs, capped."""

from __future__ import annotations

from vulntune.datasets.catalogue_examples import catalogue_examples
from vulntune.datasets.secret_guard import SecretGuard

from .helpers import applies_to_prompt


def test_preferred_cwes_first_and_the_cap_per_task(catalogue) -> None:
    made = catalogue_examples(catalogue, [89], SecretGuard(), limit=3)
    analysis = [e for e in made.examples if e.task == "analysis"]
    codefix = [e for e in made.examples if e.task == "codefix"]
    assert len(analysis) == 3 and len(codefix) == 3
    assert analysis[0].meta.cwe == "CWE-89"
    assert all(e.origin == "catalogue" and e.meta.cwe_source == "catalogue" for e in made.examples)
    assert made.examples == catalogue_examples(catalogue, [89], SecretGuard(), limit=3).examples


def test_prompts_name_no_cwe_and_diffs_apply(catalogue) -> None:
    made = catalogue_examples(catalogue, [78, 22, 79], SecretGuard(), limit=40)
    for example in made.examples:
        assert "CWE" not in example.prompt
        assert example.prompt.split("\n")[1].startswith("Language: ")
        if example.task == "codefix":
            assert applies_to_prompt(example.prompt, example.completion), example.id
        else:
            lines = example.completion.split("\n")
            assert [line.split(":")[0] for line in lines] == [
                "Classification", "Severity", "Category", "Root cause", "Impact",
            ]  # fmt: skip
            assert lines[1] in ("Severity: high", "Severity: medium", "Severity: low")


def test_no_catalogue_examples_with_a_zero_cap(catalogue) -> None:
    assert catalogue_examples(catalogue, [89], SecretGuard(), limit=0).examples == []

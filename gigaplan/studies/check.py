"""``gigaplan check``: requirements as assertions on the optimal plan, and JUnit XML.

Unlike ``plan``, which enforces requirements as constraints, ``check`` plans the site without
them and then measures each one on the result, so a CI gate sees what the site really gives.
Field names are JSON paths of the plan (``totals.gpus``), so the same function reads a fresh
result or a saved ``plan.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from gigaplan.inputs.requirements import RACK_FIELD_PREFIX, Requirement
from gigaplan.result import PlanResult

SCHEMA = "gigaplan.check/1"


def field_value(plan: Mapping[str, Any], field: str) -> float | None:
    """The value of ``field`` (a dotted JSON path, or ``racks.<sku-id>``) in a plan dict.

    Parameters
    ----------
    plan : mapping
        A ``gigaplan.plan/1`` document.
    field : str
        A requirement field, such as ``totals.gpus``.

    Returns
    -------
    float or None
        The value in the field's unit, or None when the plan has none.
    """
    if field.startswith(RACK_FIELD_PREFIX):
        sku_id = field.removeprefix(RACK_FIELD_PREFIX)
        return float(sum(line["count"] for line in plan.get("racks", [])
                         if line["sku"] == sku_id))
    node: Any = plan
    for part in field.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return None if node is None else float(node)


@dataclass(frozen=True)
class Outcome:
    requirement: Requirement
    value: float | None
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        """The measured requirement as a row of the check document.

        Returns
        -------
        dict
            The requirement, the measured value and whether it holds.
        """
        return {"requirement": self.requirement.text, "field": self.requirement.field,
                "op": self.requirement.op, "bound": self.requirement.value,
                "value": self.value, "passed": self.passed}


def evaluate(plan: Mapping[str, Any], requirements: Sequence[Requirement]) -> list[Outcome]:
    """Measure each requirement on ``plan``; a field with no value (no GPUs) fails.

    Parameters
    ----------
    plan : mapping
        A ``gigaplan.plan/1`` document.
    requirements : sequence of Requirement
        The requirements to measure.

    Returns
    -------
    list of Outcome
        One outcome per requirement, in order.
    """
    outcomes = []
    for requirement in requirements:
        value = field_value(plan, requirement.field)
        passed = value is not None and requirement.holds(value)
        outcomes.append(Outcome(requirement, value, passed))
    return outcomes


@dataclass(frozen=True)
class CheckReport:
    """A plan and each requirement measured on it: what ``gigaplan check`` reports."""

    plan: PlanResult
    outcomes: tuple[Outcome, ...]

    @property
    def passed(self) -> bool:
        """Whether every requirement holds on the plan."""
        return all(outcome.passed for outcome in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        """The ``gigaplan.check/1`` document.

        Returns
        -------
        dict
            The document as plain values (docs/json.md, "gigaplan.check/1").
        """
        return {"schema": SCHEMA, "passed": self.passed, "status": self.plan.status,
                "requirements": [outcome.to_dict() for outcome in self.outcomes],
                "plan": self.plan.to_dict()}


def junit_xml(outcomes: Sequence[Outcome], source: str) -> str:
    """JUnit XML: one test case per requirement, failures carrying the measured value.

    Parameters
    ----------
    outcomes : sequence of Outcome
        The measured requirements.
    source : str
        The site checked, the suite's name.

    Returns
    -------
    str
        The XML document.
    """
    return junit_suites([(source, outcomes)])


ERROR_TYPES = {3: "InvalidInput", 4: "Infeasible", 5: "SolverLimit"}


def _xml(text: str) -> str:
    """``text`` as XML 1.0 can hold it: a control character (other than tab and newline) or
    a lone surrogate (an undecodable byte of a file name) is written as its escape; either
    made the JUnit file unreadable to every CI tool."""
    return "".join(
        f"\\x{ord(char):02x}" if ord(char) < 0x20 and char not in "\t\n" else
        f"\\u{ord(char):04x}" if 0xD800 <= ord(char) <= 0xDFFF or char in "\ufffe\uffff"
        else char for char in text)


def junit_suites(suites: Sequence[tuple[Any, ...]]) -> str:
    """JUnit XML with one test suite per checked site: ``(source, outcomes)``, or
    ``(source, [], (exit_code, message))`` for a site that could not be checked (exit 3, 4
    or 5): one test case with an ``<error>``, so the file is written whatever the exit.

    Parameters
    ----------
    suites : sequence of tuple
        Per site, ``(source, outcomes)`` or ``(source, [], (exit_code, message))``.

    Returns
    -------
    str
        The XML document.
    """
    root = ElementTree.Element("testsuites")
    for source, outcomes, *problem in suites:
        failures = sum(not o.passed for o in outcomes)
        source = _xml(str(source))
        name = "gigaplan check" if len(suites) == 1 else f"gigaplan check {source}"
        suite = ElementTree.SubElement(root, "testsuite", name=name,
                                       tests=str(len(outcomes) or int(bool(problem))),
                                       failures=str(failures), errors=str(int(bool(problem))),
                                       skipped="0")
        if problem:
            code, text = problem[0][0], _xml(problem[0][1])
            case = ElementTree.SubElement(suite, "testcase", classname=f"gigaplan.{source}",
                                          name="plan the site", time="0")
            error = ElementTree.SubElement(case, "error", message=text,
                                           type=ERROR_TYPES.get(code, "Error"))
            error.text = f"exit {code}: {text}"
        for outcome in outcomes:
            case = ElementTree.SubElement(suite, "testcase", classname=f"gigaplan.{source}",
                                          name=_xml(outcome.requirement.text), time="0")
            if not outcome.passed:
                measured = "no value" if outcome.value is None else f"{outcome.value:g}"
                message = (f"{outcome.requirement.field} = {measured}, required "
                           f"{outcome.requirement.op} {outcome.requirement.value:g}")
                failure = ElementTree.SubElement(case, "failure", message=message,
                                                 type="RequirementNotMet")
                failure.text = message
    tree = ElementTree.ElementTree(root)
    ElementTree.indent(tree)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"

"""The structure of a JUnit XML report as its common readers (Ant, Jenkins, GitLab) expect it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

# The commonly used JUnit XML schema (Ant / Jenkins / GitLab readers): required attributes.
SUITE_ATTRS = {"name", "tests", "failures", "errors", "time", "timestamp", "hostname", "id", "package"}
CASE_ATTRS = {"name", "classname", "time"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
DECIMAL = re.compile(r"^\d+(\.\d+)?$")


def check_junit_shape(xml: str) -> ET.Element:
    """Parse ``xml`` and check it against the JUnit schema's structure; return the root."""
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.tag == "testsuites"
    assert {"tests", "failures", "errors"} <= set(root.attrib)
    suites = list(root)
    assert suites and all(s.tag == "testsuite" for s in suites)
    total_tests = total_failures = 0
    for suite in suites:
        assert set(suite.attrib) >= SUITE_ATTRS, suite.attrib
        assert TIMESTAMP.match(suite.get("timestamp", "")), suite.get("timestamp")
        assert DECIMAL.match(suite.get("time", "")) and suite.get("hostname")
        tags = [c.tag for c in suite]
        # sequence: properties?, testcase*, system-out, system-err
        assert tags[0] == "properties" and tags[-2:] == ["system-out", "system-err"]
        assert all(t == "testcase" for t in tags[1:-2])
        props = suite.find("properties")
        for p in list(props) if props is not None else []:
            assert p.tag == "property" and {"name", "value"} <= set(p.attrib)
        cases = suite.findall("testcase")
        failures = skipped = 0
        for case in cases:
            assert set(case.attrib) >= CASE_ATTRS and DECIMAL.match(case.get("time", ""))
            kids = [c.tag for c in case]
            assert kids in ([], ["failure"], ["system-out"], ["failure", "system-out"], ["skipped"]), kids
            skipped += kids == ["skipped"]
            f = case.find("failure")
            if f is not None:
                failures += 1
                assert f.get("message") and f.get("type")
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == failures
        assert suite.get("errors") == "0" and suite.get("skipped") == str(skipped)
        total_tests += len(cases)
        total_failures += failures
    assert int(root.get("tests", "-1")) == total_tests
    assert int(root.get("failures", "-1")) == total_failures
    return root

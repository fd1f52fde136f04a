"""Figures of the bad-input and fault tests, printed at the end of every test run.

Tests record each bad input they tried and each fault they injected. The terminal summary
hook in conftest prints the totals and writes them to reliability.json in the test data
folder: how many cases were tried, how many faults were survived and whether any photo
was lost or classified twice.
"""
import json
from collections import Counter
from pathlib import Path

_cases = Counter()
_faults = []
_races = []


def record_input(outcome):
    """Count one bad input; `outcome` is "accepted" (decoded upright in RGB) or "rejected"."""
    _cases[outcome] += 1


def record_fault(name, photos, classified_once, lost, duplicated):
    """Record one injected fault and what became of the photos it put at risk."""
    _faults.append(
        {"fault": name, "photos": photos, "classified_once": classified_once, "lost": lost, "duplicated": duplicated}
    )


def record_race(name, tried, succeeded, conflicts, errors, lost):
    """Record one concurrency test: requests sent at once, how they ended, and rows lost or extra."""
    _races.append(
        {"race": name, "tried": tried, "succeeded": succeeded, "conflicts": conflicts, "errors": errors, "lost": lost}
    )


def summary():
    survived = [fault for fault in _faults if fault["lost"] == 0 and fault["duplicated"] == 0]
    return {
        "inputs_tried": sum(_cases.values()),
        "inputs_accepted": _cases["accepted"],
        "inputs_rejected": _cases["rejected"],
        "faults_injected": len(_faults),
        "faults_survived": len(survived),
        "photos_at_risk": sum(fault["photos"] for fault in _faults),
        "photos_lost": sum(fault["lost"] for fault in _faults),
        "photos_duplicated": sum(fault["duplicated"] for fault in _faults),
        "faults": _faults,
        "races": _races,
    }


def write_summary(terminalreporter, folder):
    """Print the figures, if any test recorded some, and save them as JSON under `folder`."""
    figures = summary()
    if not figures["inputs_tried"] and not figures["faults_injected"] and not figures["races"]:
        return
    terminalreporter.section("reliability")
    terminalreporter.write_line(
        f"bad inputs tried: {figures['inputs_tried']} "
        f"({figures['inputs_accepted']} decoded upright in RGB, {figures['inputs_rejected']} rejected with a message)"
    )
    terminalreporter.write_line(f"faults survived: {figures['faults_survived']} of {figures['faults_injected']} injected")
    for fault in figures["faults"]:
        terminalreporter.write_line(
            f"  {fault['fault']}: {fault['classified_once']} of {fault['photos']} photos classified exactly once, "
            f"{fault['lost']} lost, {fault['duplicated']} classified twice"
        )
    terminalreporter.write_line(
        f"photos lost: {figures['photos_lost']}, classified twice: {figures['photos_duplicated']} "
        f"(of {figures['photos_at_risk']} put at risk)"
    )
    for race in figures["races"]:
        terminalreporter.write_line(
            f"{race['race']}: {race['tried']} tried, {race['succeeded']} succeeded, {race['conflicts']} conflicts, "
            f"{race['errors']} errors, {race['lost']} lost or extra rows"
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reliability.json").write_text(json.dumps(figures, indent=2))

"""Service counters (docs/counters.md) where a user reads them: stats() on
both targets, the catalogue (GetCatalogue and this build's), and sil-sim's
stopped line. The thermostat counts each non-finite SetPoint it ignores."""

import math

from sil import Catalogue, CounterInfo, ProcessTarget, SetPoint
from sil.control import pb

REJECTED = "thermostat.rejected_set_points"


def test_stats_have_every_counter_from_zero_and_count_each_rejection(target):
    assert target.stats().counters == {REJECTED: 0}
    target.inject(SetPoint(setpoint_c=math.nan))
    target.advance(ticks=1)
    assert target.stats().counters == {REJECTED: 1}
    target.inject(SetPoint(setpoint_c=40.0))
    target.inject(SetPoint(setpoint_c=-math.inf))
    target.advance(ticks=1)
    assert target.stats().counters == {REJECTED: 2}, "a finite set point is not counted"


def test_the_catalogue_lists_the_counters_with_their_descriptions(sil_sim_path, tmp_path):
    local = Catalogue.local().counters
    assert [counter.name for counter in local] == [REJECTED]
    assert "not finite" in local[0].description
    with ProcessTarget(sil_sim_path, log_dir=tmp_path) as target:
        reply = target.control_request(get_catalogue=pb.GetCatalogue())
    assert Catalogue.from_proto(reply.catalogue).counters == local
    assert isinstance(local[0], CounterInfo)


def test_the_stopped_line_reports_the_counters(sil_sim_path, tmp_path):
    target = ProcessTarget(sil_sim_path, log_dir=tmp_path)
    try:
        target.inject(SetPoint(setpoint_c=math.inf))
        target.advance(ticks=1)
    finally:
        assert target.close() == 0
    assert target.process.stopped_report()["counters"] == {REJECTED: 1}

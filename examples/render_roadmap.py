"""Render Burgas' smart-lamppost roadmap (the Eurocities Sharing Cities example) to HTML.

Writes ``roadmap.html`` (the public version) and ``roadmap-internal.html`` into the current
directory, and prints what the public version left out.
"""

from __future__ import annotations

from pathlib import Path

import pendulum

from mentorflow import sharing_cities
from mentorflow.documents import Audience, Cover, render
from mentorflow.lineage import Lineage
from mentorflow.model import RoleLabels


def main() -> None:
    """Render both versions and show where Burgas' ideas came from."""
    roadmap = sharing_cities.burgas_roadmap()
    cover = Cover(
        title="Local roadmap: a smart-lamppost street",
        city="Burgas",
        subtitle="Sharing Cities mentoring, with London, Milan and Lisbon as mentor cities",
        date=pendulum.date(2019, 6, 1),
        labels=RoleLabels(mentor="mentor city", mentee="mentee city"),
        city_names=sharing_cities.CITY_NAMES,
    )
    public = render(roadmap, audience=Audience.PUBLIC, format="html", cover=cover)
    internal = render(roadmap, audience=Audience.INTERNAL, format="html", cover=cover)
    Path("roadmap.html").write_text(public, encoding="utf-8")
    Path("roadmap-internal.html").write_text(internal, encoding="utf-8")
    print(f"wrote roadmap.html ({len(public)} characters) and roadmap-internal.html")
    for text in ("Smart waste management", "Vendor lock-in", "maintenance contract cost"):
        assert text in internal, text
        assert text not in public, text
        print(f"internal only: {text}")
    lineage = Lineage.from_roadmaps(sharing_cities.roadmaps())
    for source in lineage.sources_of("burgas"):
        for adoption in lineage.taken_from("burgas", source):
            print(f"Burgas <- {sharing_cities.CITY_NAMES[source]}: {adoption.source.practice}")


if __name__ == "__main__":
    main()

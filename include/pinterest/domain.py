"""The closed value sets of the source data (spec §2), shared by API validation, the generator and the
Spark quality checks. Plain tuples: importing this pulls in neither pydantic nor Spark."""

CATEGORIES: tuple[str, ...] = (
    "art",
    "beauty",
    "christmas",
    "diy-and-crafts",
    "education",
    "event-planning",
    "finance",
    "home-decor",
    "mens-fashion",
    "quotes",
    "tattoos",
    "travel",
    "vehicles",
)
MEDIA_TYPES: tuple[str, ...] = ("image", "video", "multi-video(story page format)")

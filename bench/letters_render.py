"""How fast grant letters render, and what the Chinese text costs.

Renders the bilingual sample letter and a Latin-only letter of the same layout (same template,
same fonts, every Chinese string replaced by Latin text) alternately in one process, and prints:
- the first (cold) render, which loads the font map and parses the stylesheet;
- letters per second with the default setup (warm, one process, one thread);
- the median time of each kind and their ratio (target: bilingual within 1.5x of Latin-only);
- whether HarfBuzz subsetting is in use (without libharfbuzz-subset0 WeasyPrint falls back to
  fontTools and a letter takes seconds).

    .venv/bin/python bench/letters_render.py            # 20 letters of each kind
    .venv/bin/python bench/letters_render.py --count 3  # or --short: the form CI runs

With --strict the exit status is 1 when the ratio misses the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

TARGET_RATIO = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="letters of each kind (default 20)")
    parser.add_argument("--short", action="store_true", help="CI form: 3 letters of each kind")
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when the ratio misses the target"
    )
    parser.add_argument(
        "--fonttools",
        action="store_true",
        help="also time one letter with HarfBuzz subsetting switched off (what a machine "
        "without libharfbuzz-subset0 gets)",
    )
    args = parser.parse_args()
    if args.short:
        args.count = 3

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.base")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()

    from letters.documents import grant_letter_pdf
    from letters.rendering import harfbuzz_subset_available, missing_cjk_fonts
    from letters.samples import sample_letter_facts

    bilingual = sample_letter_facts()
    latin_only = sample_letter_facts(latin_only=True)

    print(f"harfbuzz subset available: {harfbuzz_subset_available()}")
    missing = missing_cjk_fonts()
    print(f"CJK fonts missing: {', '.join(missing) if missing else 'none'}")

    started = time.perf_counter()
    pdf = grant_letter_pdf(facts=bilingual)
    cold = time.perf_counter() - started
    print(f"first render (cold): {cold:.3f} s, {len(pdf):,} bytes")

    timings: dict[str, list[float]] = {"bilingual": [], "latin-only": []}
    # CPU time of this process as well: on a busy machine wall time also measures the neighbours.
    cpu: dict[str, list[float]] = {"bilingual": [], "latin-only": []}
    sizes: dict[str, int] = {}
    wall_started = time.perf_counter()
    for _ in range(args.count):
        # Alternate so that machine noise falls on both kinds alike.
        for name, facts in (("bilingual", bilingual), ("latin-only", latin_only)):
            started, cpu_started = time.perf_counter(), time.process_time()
            pdf = grant_letter_pdf(facts=facts)
            timings[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
            sizes[name] = len(pdf)
    wall = time.perf_counter() - wall_started

    total = sum(len(values) for values in timings.values())
    print(f"letters rendered: {total} in {wall:.2f} s -> {total / wall:.2f} letters/s (warm)")
    cpu_total = sum(sum(values) for values in cpu.values())
    print(f"per CPU core (CPU time only): {total / cpu_total:.2f} letters/s")
    for name, values in timings.items():
        print(
            f"{name:>11}: median {statistics.median(values) * 1000:7.1f} ms, "
            f"min {min(values) * 1000:7.1f} ms, max {max(values) * 1000:7.1f} ms, "
            f"CPU median {statistics.median(cpu[name]) * 1000:7.1f} ms, {sizes[name]:,} bytes"
        )
    ratio = statistics.median(timings["bilingual"]) / statistics.median(timings["latin-only"])
    cpu_ratio = statistics.median(cpu["bilingual"]) / statistics.median(cpu["latin-only"])
    verdict = "OK" if ratio <= TARGET_RATIO else "MISSED"
    print(f"bilingual / latin-only (median): {ratio:.2f}x (target <= {TARGET_RATIO}x) {verdict}")
    print(f"bilingual / latin-only (CPU median): {cpu_ratio:.2f}x")
    if args.fonttools:
        import weasyprint.pdf.fonts

        saved = weasyprint.pdf.fonts.harfbuzz_subset
        weasyprint.pdf.fonts.harfbuzz_subset = None  # WeasyPrint then subsets with fontTools
        try:
            started = time.perf_counter()
            grant_letter_pdf(facts=bilingual)
            fallback = time.perf_counter() - started
        finally:
            weasyprint.pdf.fonts.harfbuzz_subset = saved
        harfbuzz_median = statistics.median(timings["bilingual"])
        print(
            f"bilingual with fontTools subsetting: {fallback:.2f} s "
            f"({fallback / harfbuzz_median:.0f}x the HarfBuzz median)"
        )
    return 1 if args.strict and ratio > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())

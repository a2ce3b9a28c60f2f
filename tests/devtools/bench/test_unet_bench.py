"""The UNet options benchmark's section: its heading per device, medians and ratios to eager."""

from __future__ import annotations

from devtools.bench.models.unet import GPU_NOTE, HEADINGS, _parse, configs, render


def test_the_section_shows_medians_their_ratio_to_eager_and_a_fallback() -> None:
    args = _parse(["--device", "cpu", "--rounds", "3"])
    names = list(configs(args.mode))
    assert names == ["eager", "channels_last", "compile (default)", "channels_last + compile"]
    rates = {
        "eager": [10.0, 2.0, 11.0],
        "channels_last": [12.0, 13.0, 14.0],
        "compile (default)": [20.0, 21.0, 19.0],
        "channels_last + compile": [9.0, 10.0, 11.0],
    }
    loads = {name: (5.0, "eager") for name in names} | {"compile (default)": (61.0, "compiled")}
    text = render(args, "python -m devtools.bench.models.unet", loads, rates)
    assert text.startswith(HEADINGS[False] + "\n")
    assert "| eager | 10.00 | 1.00× | 10.00, 2.00, 11.00 | 5 | eager |" in text
    assert "| compile (default) | 20.00 | 2.00× | 20.00, 21.00, 19.00 | 61 | compiled |" in text
    assert "| channels_last + compile | 10.00 | 1.00× |" in text
    assert GPU_NOTE in text

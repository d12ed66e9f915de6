"""lib.ui.prefetch: the chart and table code Streamlit would fetch late is named and imported early."""

from __future__ import annotations

from pathlib import Path

from lib.ui.prefetch import PREFETCH_JS, RENDERERS, prefetch_script, renderer_modules


def test_the_installed_streamlit_has_each_renderer_module_once() -> None:
    # A Streamlit upgrade that renames these entry modules makes this fail: update RENDERERS then.
    modules = renderer_modules()
    assert [m.split(".")[0] for m in modules] == list(RENDERERS)
    for module in modules:
        assert module in PREFETCH_JS


def test_missing_or_ambiguous_modules_are_left_to_streamlit(tmp_path: Path) -> None:
    (tmp_path / "embed.aaa.js").write_text("")
    (tmp_path / "DataFrame.bbb.js").write_text("")
    (tmp_path / "DataFrame.ccc.js").write_text("")  # two builds: not guessed
    (tmp_path / "embed.aaa.js.map").write_text("")
    assert renderer_modules(tmp_path) == ["embed.aaa.js"]
    assert prefetch_script([]) == ""


def test_the_script_imports_relative_to_streamlits_own_index_module() -> None:
    script = prefetch_script(["embed.aaa.js"])
    assert script.startswith("<script>")
    assert script.endswith("</script>")
    assert "new URL(m, index.src)" in script
    assert '["embed.aaa.js"]' in script

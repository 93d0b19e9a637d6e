"""Each of the article's figures in quick mode produces real images (and fig6 a GIF)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from geomot import shapes
from geomot.reproduce import FIGURES, fig2, fig3, fig6, list_figures, reproduce


def _render_reason():
    from geomot.plot3d import can_render

    ok, why = can_render()
    return "" if ok else why


#: VTK needs Mesa's EGL or OSMesa to render headless (apt: libegl1 libgl1-mesa-dri, or libosmesa6)
needs_render = pytest.mark.skipif(bool(_render_reason()),
                                  reason=f"VTK cannot render off-screen: {_render_reason()}")


def _bunny_available():
    try:
        shapes.bunny()
    except (FileNotFoundError, ValueError):
        return False
    return True


def assert_real_image(path, min_size=100):
    """A PNG/GIF that opens, is not tiny and is not one flat colour."""
    assert path.is_file() and path.stat().st_size > 0
    with Image.open(path) as im:
        assert im.size[0] >= min_size and im.size[1] >= min_size
        a = np.asarray(im.convert("RGB"), dtype=float)
    assert a.std() > 10, f"{path.name} is (nearly) one flat colour"
    # several distinct colours: a picture, not a blank canvas with a frame
    assert len(np.unique(a.reshape(-1, 3)[::7], axis=0)) > 50
    return a


def test_registry_and_list():
    names = [name for name, _ in list_figures()]
    assert names == ["fig1", "fig2", "fig3", "fig4", "fig5", "fig6", "fig8", "fig10", "mode-collapse", "singular-appears"]
    for spec in FIGURES.values():
        assert spec.description and callable(spec.make)
        assert spec.min_n <= spec.sizes[0] < spec.sizes[1]  # quick is smaller than publication size


def test_reproduce_unknown_name(tmp_path):
    with pytest.raises(ValueError, match="unknown figure.*fig7"):
        reproduce(["fig7"], tmp_path)


@pytest.mark.parametrize("name", ["fig3", "fig4", "fig5", "mode-collapse"])
def test_2d_figure_quick(name, tmp_path):
    paths = reproduce([name], tmp_path, quick=True)[name]
    assert len(paths) == 1 and paths[0].suffix == ".png" and paths[0].parent == tmp_path
    assert_real_image(paths[0])


@needs_render
def test_fig2_pyvista_quick(tmp_path):
    paths = fig2.make(tmp_path, quick=True)
    assert [p.name for p in paths] == ["fig2_potential.png", "fig2_projection.png"]
    a = assert_real_image(paths[0])
    red = (a[..., 0] > 150) & (a[..., 1] < 80) & (a[..., 2] < 80)
    assert red.sum() > 50  # the ridge is drawn
    assert_real_image(paths[1])


def test_fig3_smaller_n_and_seed(tmp_path):
    paths = fig3.make(tmp_path, quick=True, n=200, seed=np.random.default_rng(3))
    assert_real_image(paths[0])
    with pytest.raises(ValueError, match="n must be at least 200 for fig3"):
        fig3.make(tmp_path, quick=True, n=150)


@pytest.mark.skipif(not _bunny_available(), reason="the bunny mesh is not available")
@needs_render
def test_fig6_quick(tmp_path):
    paths = fig6.make(tmp_path, quick=True, n=1000)
    assert [p.name for p in paths] == ["fig6_singular_surfaces.png", "fig6_creases.png", "fig6_morph.png",
                                    "fig6_morph.gif"]
    assert_real_image(paths[0])
    creases = assert_real_image(paths[1])
    assert_real_image(paths[2])
    # the creases are drawn in the colour of the largest piece (component 0: red)
    red = (creases[..., 0] > 150) & (creases[..., 1] < 80) & (creases[..., 2] < 80)
    assert red.sum() > 500
    with Image.open(paths[3]) as gif:
        assert gif.n_frames > 10
        first = np.asarray(gif.convert("RGB"), dtype=float)
        gif.seek(gif.n_frames // 2)
        middle = np.asarray(gif.convert("RGB"), dtype=float)
    assert first.std() > 5 and np.abs(first - middle).mean() > 0.1  # it moves


def test_fig6_missing_bunny_is_explained(tmp_path, monkeypatch):
    def missing(*args, **kwargs):
        raise FileNotFoundError("bunny mesh not found (looked in: nowhere)")

    monkeypatch.setattr(shapes, "bunny", missing)
    with pytest.raises(FileNotFoundError, match="fig6 needs the solid Stanford bunny.*other figures"):
        fig6.make(tmp_path, quick=True)
    assert not any(tmp_path.iterdir())


def test_fig6_rejects_open_mesh(tmp_path):
    box = trimesh.creation.box()
    open_box = trimesh.Trimesh(box.vertices, box.faces[:-2], process=False)
    with pytest.raises(ValueError, match="watertight"):
        fig6.make(tmp_path, quick=True, mesh=open_box)


GALLERY = sorted((Path(__file__).resolve().parents[1] / "gallery").glob("plot_*.py"))


def test_gallery_has_one_script_per_figure():
    names = {p.stem for p in GALLERY}
    assert names == {"plot_fig1_digits_latent", "plot_fig2_potential", "plot_fig3_two_half_disks",
                     "plot_fig4_dumbbell",
                     "plot_fig5_notched_disk", "plot_fig6_bunny", "plot_fig8_generated_digits",
                     "plot_fig10_latent_interpolation", "plot_mode_collapse", "plot_singular_appears"}
    for p in GALLERY:
        text = p.read_text(encoding="utf-8")
        assert text.startswith('"""') and "# %%" in text and "assert" in text, p.name
    assert (GALLERY[0].parent / "README.txt").is_file()


@pytest.mark.parametrize("script", [pytest.param(p, id=p.stem, marks=[] if p.stem == "plot_fig3_two_half_disks"
                                                 else [pytest.mark.slow]) for p in GALLERY])
def test_gallery_script_runs_standalone(script, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    # this checkout's geomot, whatever else is installed (as tests/test_docs.py does)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=600, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    pngs = list((tmp_path / "figures").glob("*.png"))
    assert pngs or "skipping" in out.stdout
    for p in pngs:
        assert_real_image(p)


def _recipe_calls(script):
    """(recipe modules imported from geomot.reproduce, {module: steps called}, other geomot calls)."""
    import ast

    tree = ast.parse(script.read_text(encoding="utf-8"))
    imported = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module == "geomot.reproduce" for a in node.names}
    steps, others = {}, set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in imported:
                steps.setdefault(owner.id, set()).add(node.func.attr)
            else:
                others.add(node.func.attr)
    return imported, steps, others


def test_every_figure_has_a_gallery_script_calling_its_recipe():
    """Each gallery script runs the registered recipe (compute, then render) and rebuilds nothing itself."""
    scripts = {}
    for spec in FIGURES.values():
        module = spec.recipe.__name__.rsplit(".", 1)[1]
        assert spec.recipe.NAME == spec.name and spec.make is spec.recipe.make
        users = [p for p in GALLERY if module in _recipe_calls(p)[0]]
        assert len(users) == 1, f"{spec.name}: gallery scripts importing geomot.reproduce.{module}: {users}"
        scripts[spec.name] = users[0]
        imported, steps, others = _recipe_calls(users[0])
        assert imported == {module}
        assert steps[module] == {"compute", "render"}, users[0].name
        # no second copy of the recipe: no solve, no domain or target built in the script
        rebuilt = others & {"solve_ot", "singular_set", "box", "disk", "ball", "sample", "two_half_disks",
                            "dumbbell", "notched_disk", "bunny", "Point", "buffer"}
        assert not rebuilt, f"{users[0].name} rebuilds what the recipe does: {sorted(rebuilt)}"
    assert sorted(scripts.values()) == GALLERY  # and no gallery script without a registered figure


@pytest.mark.parametrize("name, png", [("fig1", "fig1_digits_latent.png"), ("fig8", "fig8_generated_digits.png"),
                                       ("fig10", "fig10_latent_interpolation.png")])
def test_real_data_figures_quick(name, png, tmp_path):
    spec = FIGURES[name]
    result = spec.compute(quick=True, n=300)
    paths = spec.render(result, tmp_path)
    assert [p.name for p in paths] == [png]
    assert_real_image(paths[0])
    with pytest.raises(ValueError, match=f"n must be at least 300 for {name}"):
        spec.compute(quick=True, n=299)

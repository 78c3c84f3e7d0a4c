"""DiT class labels resolve like DiTPipeline.get_label_ids, and DiT values do not plug into other worlds."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodeflow import Workflow, default_registry, validate
from nodes.dit import labels_from_id2label, resolve_class_ids
from tiny_models.dit import imagenet_like_id2label

WORDS = labels_from_id2label(imagenet_like_id2label())


def test_every_synonym_of_an_id2label_entry_is_a_word():
    assert WORDS["great white shark"] == WORDS["white shark"] == WORDS["Carcharodon carcharias"] == 2
    assert WORDS["tench"] == WORDS["Tinca tinca"] == 0


def test_words_ids_and_digit_strings_resolve_in_order():
    assert resolve_class_ids(["white shark", 207, "879"], WORDS, 1000) == [2, 207, 879]
    assert resolve_class_ids("otter", WORDS, 1000) == [360]


def test_unknown_word_names_close_matches():
    with pytest.raises(ValueError) as error:
        resolve_class_ids(["white sharks"], WORDS, 1000)
    message = str(error.value)
    assert "'white sharks'" in message and "'white shark' (2)" in message


def test_id_outside_the_model_classes_is_refused():
    with pytest.raises(ValueError, match="0..999"):
        resolve_class_ids(1000, WORDS, 1000)


def test_words_need_an_id2label_table():
    with pytest.raises(ValueError, match="no id2label"):
        resolve_class_ids("otter", {}, 1000)


def _wired(source_type: str, output: str, target_type: str, target_input: str) -> Workflow:
    return Workflow.from_dict({"nodeflow": 1, "nodes": {
        "source": {"type": source_type, "inputs": {}},
        "target": {"type": target_type, "inputs": {target_input: {"node": "source", "output": output}}},
    }})


@pytest.mark.parametrize("source_type, output, target_type, target_input, wanted", [
    ("dit.load_model", "transformer", "sampling.denoise", "unet", "UNet"),
    ("vq.load_model", "transformer", "dit.denoise", "transformer", "DiTTransformer"),
    ("kandinsky.load_decoder", "unet", "sampling.denoise", "unet", "UNet"),
    ("vq.denoise", "discrete_latents", "vae.decode", "latents", "Latents"),
    ("prior.image_embeds", "image_embeds", "sampling.denoise", "positive", "Conditioning"),
])
def test_a_value_of_another_world_is_refused_naming_both_types(source_type, output, target_type, target_input, wanted):
    problems = validate(_wired(source_type, output, target_type, target_input), default_registry())
    mismatches = [p for p in problems if p.code == "type_mismatch"]
    assert len(mismatches) == 1 and mismatches[0].input == target_input
    got = default_registry()[source_type].outputs[output].type_name
    assert got in mismatches[0].message and wanted in mismatches[0].message and got != wanted


def test_dit_denoise_sends_a_latent_preview_per_step_when_watched(tmp_path):
    from nodeflow import Executor, Folders
    from nodeflow.events import NodeProgress
    from tiny_models.dit import save_tiny_dit

    model = save_tiny_dit(tmp_path / "dit")
    executor = Executor(default_registry(), device="cpu", folders=Folders(output=tmp_path / "out", models=[tmp_path]))
    events = []
    workflow = Workflow.load(Path(__file__).resolve().parent.parent / "workflows" / "dit_class_to_image.json")
    report = executor.run(workflow, previews=True, on_event=events.append,
                          params={"model": model.name, "steps": 2, "class_labels": [1]})
    assert report.ok, report.failures
    shown = [e.preview for e in events if isinstance(e, NodeProgress) and e.node_id == "denoise"]
    assert len(shown) == 2 and all(p.mode == "RGB" and p.size[0] > 0 for p in shown)

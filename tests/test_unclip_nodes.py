"""Image-embedding nodes: mixing two embeddings is the weighted sum KandinskyV22PriorPipeline.interpolate takes."""

from __future__ import annotations

import torch

from nodes.prior import mix_embeds
from nodes.types import ImageEmbeds


def test_mix_is_the_weighted_sum_of_the_two_embeddings():
    first, second = torch.randn(1, 8), torch.randn(1, 8)
    mixed = mix_embeds(ImageEmbeds(first), ImageEmbeds(second), first_weight=0.3, second_weight=0.7).embeds
    assert torch.equal(mixed, torch.stack([first * 0.3, second * 0.7]).sum(dim=0))
    assert torch.allclose(mixed, 0.3 * first + 0.7 * second)


def test_mix_with_all_weight_on_one_side_gives_that_embedding():
    first, second = torch.randn(2, 8), torch.randn(2, 8)
    assert torch.equal(mix_embeds(ImageEmbeds(first), ImageEmbeds(second), 1.0, 0.0).embeds, first)


def test_saved_embeddings_load_back_unchanged(tmp_path):
    from safetensors.torch import load_file, save_file

    from nodeflow import Executor, Folders, Graph

    folders = Folders(output=tmp_path / "output", input=tmp_path / "input", temp=tmp_path / "temp")
    folders.input.mkdir()
    saved = {"image_embeds": torch.randn(1, 8), "negative_image_embeds": torch.randn(1, 8)}
    save_file(saved, str(folders.input / "made_earlier.safetensors"))
    graph = Graph()
    loaded = graph.add("prior.load_embeds", file="made_earlier.safetensors")
    graph.add("prior.save_embeds", image_embeds=loaded.out.image_embeds,
              negative_image_embeds=loaded.out.negative_image_embeds, filename_prefix="again")
    report = Executor(graph.registry, device="cpu", folders=folders).run(graph.workflow)
    assert report.ok, report.failures
    again = load_file(folders.output / "again_00001_.safetensors")
    assert all(torch.equal(again[key], saved[key]) for key in saved)


def test_embeddings_file_without_the_negative_is_refused(tmp_path):
    from safetensors.torch import save_file

    from nodeflow import Executor, Folders, Graph

    folders = Folders(output=tmp_path / "output", input=tmp_path / "input", temp=tmp_path / "temp")
    folders.input.mkdir()
    save_file({"image_embeds": torch.randn(1, 8)}, str(folders.input / "half.safetensors"))
    graph = Graph()
    loaded = graph.add("prior.load_embeds", file="half.safetensors")
    graph.add("prior.save_embeds", image_embeds=loaded.out.image_embeds)
    report = Executor(graph.registry, device="cpu", folders=folders).run(graph.workflow)
    assert "no negative_image_embeds tensor" in report.failures[0].message

from __future__ import annotations

import torch

from worker.pipelines.sampling import SeededSampler, uniform_noise


def sample(sampler: SeededSampler, logits: torch.Tensor, step: int = 0) -> list[int]:
    ids = torch.zeros((logits.shape[0], sampler.prompt_len + step), dtype=torch.long)
    return sampler(ids, logits).argmax(dim=-1).tolist()  # type: ignore[arg-type]


def test_noise_is_a_function_of_seed_and_step_only() -> None:
    a = uniform_noise(torch.tensor([1, 2, 3]), 5, 100)
    b = uniform_noise(torch.tensor([3, 1]), 5, 100)
    assert torch.equal(a[0], b[1])
    assert torch.equal(a[2], b[0])
    assert not torch.equal(a[0], uniform_noise(torch.tensor([1]), 6, 100)[0])
    assert float(a.min()) > 0
    assert float(a.max()) < 1


def test_greedy_rows_take_the_argmax_and_sampled_rows_are_batch_invariant() -> None:
    torch.manual_seed(0)
    logits = torch.randn(3, 50)
    batch = SeededSampler(temperatures=[0.0, 1.0, 1.0], top_ps=[1.0, 1.0, 0.9], seeds=[9, 7, 8], prompt_len=4)
    picks = sample(batch, logits, step=2)
    assert picks[0] == int(logits[0].argmax())
    alone = SeededSampler(temperatures=[1.0], top_ps=[0.9], seeds=[8], prompt_len=4)
    assert sample(alone, logits[2:], step=2) == [picks[2]]


def test_samples_follow_the_distribution_and_stay_in_the_nucleus() -> None:
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    logits = probs.log().repeat(4000, 1)
    free = SeededSampler(
        temperatures=[1.0] * 4000, top_ps=[1.0] * 4000, seeds=list(range(4000)), prompt_len=1
    )
    counts = torch.bincount(torch.tensor(sample(free, logits)), minlength=4).float() / 4000
    assert torch.allclose(counts, probs, atol=0.03)
    nucleus = SeededSampler(
        temperatures=[1.0] * 4000, top_ps=[0.7] * 4000, seeds=list(range(4000)), prompt_len=1
    )
    assert set(sample(nucleus, logits)) == {0, 1}


def test_each_image_s_initial_noise_depends_on_its_own_seed_only() -> None:
    from shared.inputs import ImageInput
    from worker.pipelines.image import DiffusersImagePipeline, ImageWork

    mine = ImageWork(ImageInput(prompt="a", num_images=2), seed=5)
    other = ImageWork(ImageInput(prompt="b"), seed=9)
    lone = DiffusersImagePipeline.generators([mine])
    batched = DiffusersImagePipeline.generators([other, mine])[1:]
    draws = [[torch.randn(8, generator=g) for g in gens] for gens in (lone, batched)]
    assert all(torch.equal(a, b) for a, b in zip(*draws, strict=True))
    assert not torch.equal(draws[0][0], draws[0][1])  # image i uses seed + i

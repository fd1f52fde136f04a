"""The three ML systems the evaluation compares, as heads over the same backbone features.

- Concatenated: one softmax head over the whole label scheme (the product's model).
- Task-centric: one binary softmax classifier per task, each with its own maximum-logit
  OOD detector.
- Multi-task: one shared backbone with binary sigmoid heads (Defect, Dirt, Bubble wash
  against Normal) and one softmax head over the other labels, trained on the summed
  losses. Its OOD score is the KL divergence of its outputs from uniform ones.

Every system exposes the same methods, so one report function serves all three.
"""
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from inference import ood
from inference.ml.training import class_weights, fit_head

NORMAL = "NORMAL"
# Task name -> the label a binary task recognises against Normal.
TASKS = {"defect": "DEFECT", "dirt": "DIRT"}
MULTI_TASK_BINARY_LABELS = ("DEFECT", "DIRT", "BUBBLE_WASH")


def as_tensor(features):
    return torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))


@dataclass
class Cost:
    """Production cost of a system: models to keep, forward passes per photo, prediction tables to read."""

    models: int
    forward_passes_per_photo: int
    prediction_tables: int


@dataclass
class ConcatenatedSystem:
    label_codes: list
    head: torch.nn.Linear
    threshold: float
    name: str = "concatenated"
    cost: Cost = field(default_factory=lambda: Cost(models=1, forward_passes_per_photo=1, prediction_tables=1))

    def logits(self, features):
        with torch.no_grad():
            return self.head(as_tensor(features)).numpy()

    def predicted_codes(self, features):
        return [self.label_codes[index] for index in self.logits(features).argmax(axis=1)]

    def task_predicted_codes(self, features, task):
        return self.predicted_codes(features)

    def label_scores(self, features, code):
        if code not in self.label_codes:
            return None
        return ood.softmax(self.logits(features))[:, self.label_codes.index(code)]

    def ood_scores(self, features):
        """Return {detector: {score name: scores}}; one detector over the whole scheme."""
        logits = self.logits(features)
        return {"concatenated": {name: score(logits) for name, score in ood.SCORES.items()}}

    def gate_scores(self, features):
        return ood.max_logit(self.logits(features))

    def top2_codes(self, features):
        order = np.argsort(-self.logits(features), axis=1)[:, :2]
        return [{self.label_codes[first], self.label_codes[second]} for first, second in order]


@dataclass
class TaskCentricSystem:
    """One binary classifier per task; label order in each head is (Normal, task label)."""

    heads: dict
    name: str = "task_centric"
    cost: Cost = field(default_factory=lambda: Cost(models=len(TASKS), forward_passes_per_photo=len(TASKS), prediction_tables=len(TASKS)))

    def task_logits(self, features, task):
        with torch.no_grad():
            return self.heads[task](as_tensor(features)).numpy()

    def predicted_codes(self, features):
        return None

    def task_predicted_codes(self, features, task):
        labels = (NORMAL, TASKS[task])
        return [labels[index] for index in self.task_logits(features, task).argmax(axis=1)]

    def label_scores(self, features, code):
        for task, label in TASKS.items():
            if label == code and task in self.heads:
                return ood.softmax(self.task_logits(features, task))[:, 1]
        return None

    def ood_scores(self, features):
        """Return {task: {score name: scores}}: each classifier has its own detector."""
        scores = {}
        for task in self.heads:
            logits = self.task_logits(features, task)
            scores[task] = {name: score(logits) for name, score in ood.SCORES.items()}
        return scores

    def top2_codes(self, features):
        """Return the labels the binary classifiers give a photo together, one per task."""
        per_task = [self.task_predicted_codes(features, task) for task in self.heads]
        return [set(codes) - {NORMAL} or {NORMAL} for codes in zip(*per_task)]


@dataclass
class MultiTaskSystem:
    """Shared features, one sigmoid head per binary label and one softmax head over `other_codes`."""

    binary_codes: tuple
    other_codes: list
    head: torch.nn.Linear
    name: str = "multi_task"
    cost: Cost = field(default_factory=lambda: Cost(models=1, forward_passes_per_photo=1, prediction_tables=1))

    def outputs(self, features):
        """Return (binary probabilities, multi-class probabilities) of each photo."""
        with torch.no_grad():
            logits = self.head(as_tensor(features))
        binary = torch.sigmoid(logits[:, : len(self.binary_codes)]).numpy()
        other = torch.softmax(logits[:, len(self.binary_codes) :], dim=1).numpy() if self.other_codes else None
        return binary, other

    def predicted_codes(self, features):
        return None

    def task_predicted_codes(self, features, task):
        """Return the target head's verdict only, as the multi-task learner is evaluated per task."""
        code = TASKS[task]
        binary, _ = self.outputs(features)
        positive = binary[:, self.binary_codes.index(code)] > 0.5
        return [code if is_positive else NORMAL for is_positive in positive]

    def label_scores(self, features, code):
        if code not in self.binary_codes:
            return None
        binary, _ = self.outputs(features)
        return binary[:, self.binary_codes.index(code)]

    def ood_scores(self, features):
        return {"multi_task": {"kl_uniform": self.kl_from_uniform(features)}}

    def kl_from_uniform(self, features):
        """Return KL(uniform || outputs) summed over the heads: near 0 for a photo no head recognises.

        Each binary head is a Bernoulli distribution compared with (0.5, 0.5); the
        multi-class head is compared with 1 / its number of labels.
        """
        binary, other = self.outputs(features)
        eps = 1e-7
        binary = np.clip(binary, eps, 1 - eps)
        divergence = (0.5 * np.log(0.5 / binary) + 0.5 * np.log(0.5 / (1 - binary))).sum(axis=1)
        if other is not None:
            uniform = 1.0 / other.shape[1]
            divergence += (uniform * np.log(uniform / np.clip(other, eps, 1.0))).sum(axis=1)
        return divergence

    def top2_codes(self, features):
        """Return the binary labels whose heads fire; the multi-task learner has no top-2."""
        binary, _ = self.outputs(features)
        return [{code for code, probability in zip(self.binary_codes, row) if probability > 0.5} or {NORMAL} for row in binary]


def one_hot(codes, label_codes):
    targets = np.zeros((len(codes), len(label_codes)), dtype=np.float32)
    for row, code in enumerate(codes):
        targets[row, label_codes.index(code)] = 1.0
    return targets


def train_concatenated(features, examples, label_codes, weight_decay, threshold, seed=0):
    """Fit the softmax head over the whole scheme on (photos, views, dim) features."""
    targets = np.stack([example.target(label_codes) for example in examples])
    head = fit_head(features, targets, class_weights(examples, label_codes), weight_decay, seed)
    return ConcatenatedSystem(list(label_codes), head, threshold)


def train_task_centric(features, examples, weight_decay, seed=0):
    """Fit one binary head per task on the photos of Normal and that task's label only."""
    heads = {}
    for task, code in TASKS.items():
        rows = [index for index, example in enumerate(examples) if example.primary_label in (NORMAL, code)]
        task_examples = [examples[index] for index in rows]
        if {example.primary_label for example in task_examples} != {NORMAL, code}:
            continue
        labels = [NORMAL, code]
        targets = one_hot([example.primary_label for example in task_examples], labels)
        heads[task] = fit_head(features[rows], targets, class_weights(task_examples, labels), weight_decay, seed)
    return TaskCentricSystem(heads)


def train_multi_task(features, examples, label_codes, weight_decay, seed=0):
    """Fit the binary heads and the multi-class head together, minimising the sum of their losses.

    A binary head learns from the photos of its label (target 1) and of Normal (target 0);
    the multi-class head learns from the photos of the remaining labels. The backbone is
    shared and frozen, as in every system here, so the comparison isolates the heads.
    """
    binary_codes = tuple(code for code in MULTI_TASK_BINARY_LABELS if code in label_codes)
    other_codes = [code for code in label_codes if code != NORMAL and code not in binary_codes]
    torch.manual_seed(seed)
    photos, views, dim = features.shape
    x = as_tensor(features.reshape(photos * views, dim))
    primary = np.repeat([example.primary_label for example in examples], views)
    head = torch.nn.Linear(dim, len(binary_codes) + len(other_codes))
    optimizer = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=300, line_search_fn="strong_wolfe")

    binary_rows, binary_targets = [], []
    for code in binary_codes:
        rows = np.flatnonzero((primary == code) | (primary == NORMAL))
        binary_rows.append(torch.from_numpy(rows))
        binary_targets.append(torch.from_numpy((primary[rows] == code).astype(np.float32)))
    other_rows = np.flatnonzero(np.isin(primary, other_codes))
    other_targets = torch.tensor([other_codes.index(code) for code in primary[other_rows]], dtype=torch.long)
    other_rows = torch.from_numpy(other_rows)

    def closure():
        optimizer.zero_grad()
        logits = head(x)
        loss = weight_decay * head.weight.pow(2).sum()
        for column, (rows, targets) in enumerate(zip(binary_rows, binary_targets)):
            if len(rows):
                loss = loss + F.binary_cross_entropy_with_logits(logits[rows, column], targets)
        if len(other_rows):
            loss = loss + F.cross_entropy(logits[other_rows, len(binary_codes) :], other_targets)
        loss.backward()
        return loss

    optimizer.step(closure)
    return MultiTaskSystem(binary_codes, other_codes, head)

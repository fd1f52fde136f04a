"""Training a model version from the current training labels.

Two modes share data, split, calibration and saving:
- "head" (default): the ImageNet backbone stays frozen; its features of each photo and of
  a few augmentations are cached, and a softmax head is fitted on them. Minutes on 2 CPU cores.
- "finetune": every layer is trained with SGD, batch 16, learning rate 2e-3, weight decay
  5e-4 and cosine annealing, starting from the fitted head.
"""
import hashlib
import io
import logging
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from django.core.files.base import ContentFile
from django.db import transaction

from inference import ood
from inference.metrics import classification_metrics
from inference.ml.data import scheme_of, stratified_split, training_examples
from inference.ml.features import FeatureCache, extract_features, load_photo
from inference.ml.network import build_classifier
from inference.ml.transforms import eval_transform, train_transform
from inference.models import ModelVersion
from inference.services.versions import activate_version

logger = logging.getLogger(__name__)

MODES = ("head", "finetune")


class TrainingError(RuntimeError):
    pass


@dataclass
class TrainingConfig:
    mode: str = "head"
    epochs: int = 12
    batch_size: int = 16
    learning_rate: float = 2e-3
    weight_decay: float = 5e-4
    head_weight_decay: float = 1e-3
    augmented_views: int = 6
    validation_fraction: float = 0.2
    ood_keep_rate: float = ood.DEFAULT_KEEP_RATE
    seed: int = 0

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"Training mode {self.mode!r} is not one of {', '.join(MODES)}.")


def class_weights(examples, label_codes):
    """Weight each example by the inverse frequency of its label, so rare labels count as much."""
    counts = {code: 0 for code in label_codes}
    for example in examples:
        counts[example.primary_label] += 1
    weights = np.array([1.0 / counts[example.primary_label] for example in examples], dtype=np.float32)
    return weights * len(weights) / weights.sum()


def soft_cross_entropy(logits, targets, weights):
    losses = -(targets * F.log_softmax(logits, dim=1)).sum(dim=1)
    return (losses * weights).mean()


def fit_head(features, targets, weights, weight_decay, seed=0):
    """Fit a linear softmax head on (examples, views, dim) features with L-BFGS.

    Every view of a photo shares its target and weight; the L2 penalty keeps logits on a
    scale where the maximum logit still separates unfamiliar photos.
    """
    torch.manual_seed(seed)
    examples, views, dim = features.shape
    x = torch.from_numpy(features.reshape(examples * views, dim))
    y = torch.from_numpy(np.repeat(targets, views, axis=0))
    w = torch.from_numpy(np.repeat(weights, views))
    head = torch.nn.Linear(dim, targets.shape[1])
    optimizer = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=300, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = soft_cross_entropy(head(x), y, w) + weight_decay * head.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return head


def install_head(model, features, examples, label_codes, config):
    """Fit the softmax head on (examples, views, dim) features of `examples` and copy it into `model`; return the head."""
    targets = np.stack([example.target(label_codes) for example in examples])
    head = fit_head(features, targets, class_weights(examples, label_codes), config.head_weight_decay, config.seed)
    with torch.no_grad():
        model._fc.weight.copy_(head.weight)
        model._fc.bias.copy_(head.bias)
    return head


def finetune(model, train_examples, label_codes, config, progress=None):
    """Train every layer on augmented photos, decoded once and kept in memory."""
    images = [load_photo(example.file_name) for example in train_examples]
    targets = torch.from_numpy(np.stack([example.target(label_codes) for example in train_examples]))
    weights = torch.from_numpy(class_weights(train_examples, label_codes))
    augment = train_transform()
    optimizer = torch.optim.SGD(model.parameters(), lr=config.learning_rate, momentum=0.9, weight_decay=config.weight_decay)
    steps_per_epoch = max(1, -(-len(images) // config.batch_size))
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs * steps_per_epoch)
    generator = torch.Generator().manual_seed(config.seed)
    model.train()
    for epoch in range(config.epochs):
        order = torch.randperm(len(images), generator=generator).tolist()
        epoch_loss = 0.0
        for start in range(0, len(order), config.batch_size):
            batch = order[start : start + config.batch_size]
            inputs = torch.stack([augment(images[index]) for index in batch])
            loss = soft_cross_entropy(model(inputs), targets[batch], weights[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            epoch_loss += loss.item() * len(batch)
        logger.info("fine-tuning epoch %d/%d: loss %.4f", epoch + 1, config.epochs, epoch_loss / len(order))
        if progress:
            progress("finetune", epoch + 1, config.epochs)
    return model.eval()


@torch.inference_mode()
def eval_logits(model, examples):
    transform = eval_transform()
    logits = []
    for start in range(0, len(examples), 16):
        batch = torch.stack([transform(load_photo(example.file_name)) for example in examples[start : start + 16]])
        logits.append(model(batch).numpy())
    return np.concatenate(logits) if logits else np.zeros((0, model._fc.out_features), dtype=np.float32)


def train_model_version(config=None, progress=None, activate=False, user=None):
    """Train, calibrate and save a new model version from the current training labels.

    1. Collect the newest labels and split them per label into training and validation.
    2. Fit the head on cached backbone features (and fine-tune every layer if asked).
    3. Measure on the validation photos and set the OOD threshold to the maximum logit
       that keeps `ood_keep_rate` of them.
    4. Save the weights and metrics as a version, activated if asked (in the audit log
       as done by `user`, or by the system when None).
    """
    config = config or TrainingConfig()
    started = time.monotonic()
    examples = training_examples()
    label_codes = scheme_of(examples)
    if len(label_codes) < 2:
        raise TrainingError(f"Training needs photos of at least two labels; the training labels name {len(label_codes)}.")
    train, validation = stratified_split(examples, config.validation_fraction, config.seed)
    logger.info("training on %d photos, validating on %d, labels: %s", len(train), len(validation), ", ".join(label_codes))

    torch.manual_seed(config.seed)
    model = build_classifier(len(label_codes)).eval()
    cache = FeatureCache(model)
    total = len(train) + len(validation)
    done = [0]

    def feature_progress(step):
        done[0] += step
        if progress:
            progress("features", done[0], total)

    train_features = extract_features(model, train, config.augmented_views, cache, feature_progress)
    head = install_head(model, train_features, train, label_codes, config)

    if config.mode == "finetune":
        model = finetune(model, train, label_codes, config, progress)
        validation_logits = eval_logits(model, validation)
    else:
        validation_features = extract_features(model, validation, 0, cache, feature_progress)[:, 0]
        with torch.no_grad():
            validation_logits = head(torch.from_numpy(validation_features)).numpy()

    metrics = measure(validation, validation_logits, label_codes)
    calibration = validation_logits
    if len(validation) == 0:
        # With one photo per label nothing can be held out; calibrating on training photos
        # sets the threshold too high, so it rejects more, never less.
        calibration = eval_logits(model, train)
        metrics["threshold_calibrated_on"] = "training photos"
    threshold = ood.calibrate_threshold(ood.max_logit(calibration), config.ood_keep_rate)
    metrics.update(
        train_photos=len(train),
        validation_photos=len(validation),
        seconds=round(time.monotonic() - started, 1),
    )
    version = save_version(model, label_codes, threshold, metrics, config, activate, user)
    logger.info("trained %s in %.1f s: %s", version.name, metrics["seconds"], metrics.get("accuracy"))
    return version


def measure(examples, logits, label_codes):
    if len(examples) == 0:
        return {}
    truth = [label_codes.index(example.primary_label) for example in examples]
    predicted = np.asarray(logits).argmax(axis=1).tolist()
    return classification_metrics(truth, predicted, label_codes)


def save_version(model, label_codes, threshold, metrics, config, activate, user=None):
    buffer = io.BytesIO()
    torch.save({"architecture": "efficientnet-lite0", "label_codes": label_codes, "state_dict": model.state_dict()}, buffer)
    with transaction.atomic():
        version = ModelVersion.objects.create(
            name=f"pending-{time.time_ns()}",
            label_codes=label_codes,
            ood_threshold=threshold,
            metrics=metrics,
            training_settings=asdict(config),
        )
        version.name = f"v{version.pk}"
        version.weights.save(f"{version.name}.pt", ContentFile(buffer.getvalue()), save=False)
        version.weights_sha256 = hashlib.sha256(buffer.getvalue()).hexdigest()
        version.save()
        if activate:
            activate_version(version, user)
    return version

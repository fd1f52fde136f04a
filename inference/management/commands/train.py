from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inference.ml.training import TrainingConfig, TrainingError, train_model_version


class Command(BaseCommand):
    help = "Train a model version from the current training labels."

    def add_arguments(self, parser):
        parser.add_argument("--finetune", action="store_true", help="Train every layer (slow on CPU) instead of only the head.")
        parser.add_argument("--activate", action="store_true", help="Make the new version the one that classifies photos.")
        parser.add_argument("--epochs", type=int, default=TrainingConfig.epochs, help="Fine-tuning epochs.")
        parser.add_argument("--views", type=int, default=TrainingConfig.augmented_views, help="Augmented views per photo for the head.")
        parser.add_argument(
            "--validation-fraction",
            type=float,
            default=TrainingConfig.validation_fraction,
            help="Share of each label's photos held out for metrics and the OOD threshold; 0 trains on every photo.",
        )
        parser.add_argument("--seed", type=int, default=TrainingConfig.seed)

    def handle(self, finetune, activate, epochs, views, validation_fraction, seed, **options):
        if not 0 <= validation_fraction < 1:
            raise CommandError(f"--validation-fraction must be at least 0 and below 1, not {validation_fraction}.")
        config = TrainingConfig(
            mode="finetune" if finetune else "head",
            epochs=epochs,
            augmented_views=views,
            validation_fraction=validation_fraction,
            seed=seed,
        )
        bars = {}

        def progress(stage, done, total):
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, desc=stage, file=self.stdout, leave=False)
            bar.update(done - bar.n)

        try:
            version = train_model_version(config, progress=progress, activate=activate)
        except TrainingError as error:
            raise CommandError(str(error)) from None
        finally:
            for bar in bars.values():
                bar.close()
        metrics = version.metrics
        accuracy = metrics.get("accuracy")
        accuracy_text = "n/a" if accuracy is None else f"{accuracy:.3f}"
        self.stdout.write(
            self.style.SUCCESS(
                f"Trained {version.name} on {metrics['train_photos']} photos in {metrics['seconds']} s: "
                f"validation accuracy {accuracy_text} on {metrics['validation_photos']} photos, "
                f"OOD threshold {version.ood_threshold:.3f} (maximum logit)"
                + (", activated." if activate else ".")
            )
        )

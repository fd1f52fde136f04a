import json

from django.core.management.base import BaseCommand, CommandError

from inference.evaluation.crossval import CrossValidationError
from inference.evaluation.datasets import DatasetError, read_label_map
from inference.evaluation.report import render_text
from inference.evaluation.service import EvaluationError, EvaluationRequest, evaluate_version, find_version
from inference.ml.training import MODES


class Command(BaseCommand):
    help = (
        "Evaluate a model version: task accuracy (RQ1), OOD detection (RQ2) and multi-label photos (RQ3), "
        "optionally cross-validated and compared with task-centric and multi-task baselines. "
        "The report is stored on the version."
    )

    def add_arguments(self, parser):
        parser.add_argument("--model", metavar="VERSION", help="Model version name (default: the active version).")
        parser.add_argument("--test", metavar="DIR", help="Folder-per-label test set (default: the version's held-out split).")
        parser.add_argument("--ood", metavar="DIR", action="append", default=[], help="Folder of irrelevant photos; its name is the kind. Repeatable.")
        parser.add_argument("--multilabel", metavar="DIR", help="Folder of photos with two labels, listed in its labels.csv (file,labels).")
        parser.add_argument("--cv", metavar="K", type=int, help="Cross-validate the training recipe over K folds of every training photo.")
        parser.add_argument(
            "--recipe", choices=MODES,
            help="Training recipe that --cv repeats per fold (default: the version's own). 'finetune' trains every layer once per fold: minutes per fold on a CPU.",
        )
        parser.add_argument("--compare", action="store_true", help="Also fit the task-centric and multi-task baselines and measure each system's cost.")
        parser.add_argument("--json", action="store_true", help="Print the report as one JSON object instead of tables.")
        parser.add_argument("--label-map", metavar="FILE", help='JSON object mapping test folder names to labels, e.g. {"car_damage": "DEFECT"}.')
        parser.add_argument("--seed", type=int, default=0, help="Seed of the cross-validation folds.")

    def handle(self, *args, **options):
        def progress(message):
            if not options["json"]:
                self.stdout.write(message)

        if options["recipe"] and not options["cv"]:
            raise CommandError("--recipe sets what --cv repeats per fold; give --cv K with it.")
        try:
            label_map = read_label_map(options["label_map"]) if options["label_map"] else None
            version = find_version(options["model"])
            request = EvaluationRequest(
                test_dir=options["test"],
                ood_dirs=options["ood"],
                multilabel_dir=options["multilabel"],
                folds=options["cv"],
                recipe=options["recipe"],
                compare=options["compare"],
                label_map=label_map,
                seed=options["seed"],
            )
            report = evaluate_version(version, request, progress=progress)
        except (EvaluationError, DatasetError, CrossValidationError) as error:
            raise CommandError(str(error)) from None

        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2, ensure_ascii=False))
            return
        self.stdout.write("")
        self.stdout.write(render_text(report))
        self.stdout.write(self.style.SUCCESS(f"Stored the report on {version.name} ({report['seconds']} s)."))

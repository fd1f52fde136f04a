import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from inference.models import ModelVersion, TrainingJob
from inspection.models import Label, TrainingLabel
from inspection.roles import LABELING_ADMIN
from inspection.services.labels import add_training_label, current_training_label
from tests.inspection_data import label, make_photo, make_version, predict, user_in_role

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def admin_user(client):
    user = user_in_role("hana", LABELING_ADMIN)
    client.force_login(user)
    return user


@pytest.fixture
def version():
    return make_version(
        metrics={
            "accuracy": 0.9,
            "macro_f1": 0.85,
            "confusion_matrix": {"labels": ["DIRT", "NORMAL"], "matrix": [[9, 1], [2, 8]]},
        }
    )


def test_relabel_puts_disagreements_first(client, admin_user, version):
    agreeing = make_photo(plate="11가1111")
    predict(agreeing, version, top1="DIRT", p1=0.3)
    add_training_label(agreeing, [label("DIRT")], TrainingLabel.Source.DATASET)
    disagreeing = make_photo(plate="22나2222")
    predict(disagreeing, version, top1="DIRT", p1=0.99)
    add_training_label(disagreeing, [label("NORMAL")], TrainingLabel.Source.DATASET)

    photos = list(client.get(reverse("inspection:relabel")).context["photos"])

    assert [photo.pk for photo in photos] == [disagreeing.pk, agreeing.pk]


def test_relabel_filters_by_labels_and_confidence(client, admin_user, version):
    low = make_photo(plate="11가1111")
    predict(low, version, top1="DEFECT", p1=0.3)
    high = make_photo(plate="22나2222")
    predict(high, version, top1="DIRT", p1=0.9)
    add_training_label(high, [label("NORMAL")], TrainingLabel.Source.DATASET)

    def listed(**params):
        return [photo.pk for photo in client.get(reverse("inspection:relabel"), params).context["photos"]]

    assert listed(predicted_label="DEFECT") == [low.pk]
    assert listed(current_label="NORMAL") == [high.pk]
    assert listed(min_confidence="0.5") == [high.pk]
    assert listed(max_confidence="0.5") == [low.pk]
    assert listed(disagreements_only="on") == [high.pk]


def test_relabel_counts_labelled_and_matching_photos(client, admin_user, version):
    labelled = make_photo(plate="11가1111")
    predict(labelled, version, top1="DIRT", p1=0.9)
    add_training_label(labelled, [label("NORMAL")], TrainingLabel.Source.DATASET)
    unlabelled = make_photo(plate="22나2222")
    predict(unlabelled, version, top1="DEFECT", p1=0.3)

    everything = client.get(reverse("inspection:relabel")).content.decode()
    defects = client.get(reverse("inspection:relabel"), {"predicted_label": "DEFECT"}).content.decode()

    assert 'data-training-label-count="1"' in everything
    assert 'data-match-count="2"' in everything
    assert 'data-training-label-count="1"' in defects
    assert 'data-match-count="1"' in defects


def test_bulk_relabel_creates_admin_training_labels(client, admin_user, version):
    photos = [make_photo(plate=f"3{index}다3333") for index in range(2)]
    for photo in photos:
        predict(photo, version)

    response = client.post(reverse("inspection:relabel"), {"photos": [photo.pk for photo in photos], "labels": ["DEFECT"]})

    assert response.status_code == 302
    for photo in photos:
        current = current_training_label(photo)
        assert current.source == TrainingLabel.Source.ADMIN
        assert current.author == admin_user
        assert list(current.labels.values_list("code", flat=True)) == ["DEFECT"]


def test_relabel_without_labels_is_refused(client, admin_user, version):
    photo = make_photo()
    predict(photo, version)

    client.post(reverse("inspection:relabel"), {"photos": [photo.pk]})

    assert not TrainingLabel.objects.exists()


def test_add_label_to_scheme(client, admin_user):
    response = client.post(
        reverse("inspection:labels"), {"code": "scratch", "name_en": "Scratch", "name_ko": "긁힘", "action": "repair"}
    )

    assert response.status_code == 302
    added = Label.objects.get(code="SCRATCH")
    assert added.name_ko == "긁힘"
    assert added.position > Label.objects.get(code="SEAT").position


def test_duplicate_label_code_is_refused(client, admin_user):
    response = client.post(
        reverse("inspection:labels"), {"code": "DIRT", "name_en": "Dirt", "name_ko": "오염", "action": "wash"}
    )

    assert response.status_code == 400
    assert Label.objects.filter(code="DIRT").count() == 1


def test_models_page_shows_metrics_and_confusion_matrix(client, admin_user, version):
    content = client.get(reverse("inspection:models")).content.decode()

    assert "매크로 F1" in content
    assert "macro_f1" not in content
    assert "오염" in content
    assert 'class="heatmap"' in content
    assert "--shade: 90%" in content


def test_models_page_shows_evaluation_report(client, admin_user, version):
    version.evaluation = {
        "test_set": {"source": "the held-out split", "photos": 12},
        "accuracy": 0.783, "std": {"accuracy": 0.085, "one_class_auroc": {"dirt": 0.06}},
        "one_class_auroc": {"dirt": 0.97, "defect": 0.93},
        "ood": {"receipts": {"auroc": {"max_logit": 0.915}}},
        "cv": {"folds": 5, "recipe": "head"},
    }
    version.save()

    content = client.get(reverse("inspection:models")).content.decode()

    assert "평가 보고서" in content
    assert "<dd>0.783 ± 0.085</dd>" in content
    assert "<dd>0.970 ± 0.060</dd>" in content
    assert "<dd>0.930</dd>" in content
    assert "<dd>0.915</dd>" in content
    assert "<dd>5 × head</dd>" in content
    assert "학습에서 뺀 검증 사진 (12)" in content


def test_models_page_shows_evaluation_figures(client, admin_user, version):
    default_storage.save("evaluation/v1/roc.png", ContentFile(b"\x89PNG fake"))
    version.evaluation = {"figures": {"roc": "evaluation/v1/roc.png"}}
    version.save()

    page = client.get(reverse("inspection:models")).content.decode()
    figure = client.get(reverse("inspection:model_figure", args=[version.pk, "roc"]))

    assert reverse("inspection:model_figure", args=[version.pk, "roc"]) in page
    assert figure["Content-Type"] == "image/png"


def test_threshold_is_saved(client, admin_user, version):
    response = client.post(reverse("inspection:model_threshold", args=[version.pk]), {f"v{version.pk}-ood_threshold": "4.25"}, **HTMX)

    version.refresh_from_db()
    assert response.status_code == 200
    assert version.ood_threshold == 4.25


def test_threshold_rejects_text(client, admin_user, version):
    client.post(reverse("inspection:model_threshold", args=[version.pk]), {f"v{version.pk}-ood_threshold": "high"}, **HTMX)

    version.refresh_from_db()
    assert version.ood_threshold == 3.0


def test_roll_back_activates_older_version(client, admin_user, version):
    newer = make_version("v2")

    client.post(reverse("inspection:model_activate", args=[version.pk]))

    assert ModelVersion.objects.active() == version
    newer.refresh_from_db()
    assert not newer.is_active


def test_train_now_queues_a_job(client, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("inspection:training_start"), {"activate": "on"})

    job = TrainingJob.objects.get()
    assert job.activate
    assert job.requested_by == admin_user
    assert len(callbacks) == 1


def test_train_now_refuses_while_a_job_runs(client, admin_user):
    TrainingJob.objects.create(status=TrainingJob.Status.RUNNING)

    client.post(reverse("inspection:training_start"))

    assert TrainingJob.objects.count() == 1


def test_job_polling_stops_when_done(client, admin_user):
    running = TrainingJob.objects.create(status=TrainingJob.Status.RUNNING, progress_done=3, progress_total=4)
    done = TrainingJob.objects.create(status=TrainingJob.Status.COMPLETED)

    running_response = client.get(reverse("inspection:training_job", args=[running.pk]), **HTMX)
    done_response = client.get(reverse("inspection:training_job", args=[done.pk]), **HTMX)

    assert running_response.status_code == 200
    assert b"75%" in running_response.content
    assert b"hx-trigger" in running_response.content
    assert done_response.status_code == 286
    assert b"hx-trigger" not in done_response.content


def test_job_stage_is_translated(client, admin_user):
    job = TrainingJob.objects.create(status=TrainingJob.Status.RUNNING, stage="features", progress_done=1, progress_total=4)

    content = client.get(reverse("inspection:training_job", args=[job.pk]), **HTMX).content.decode()

    assert "특징 추출" in content
    assert "features" not in content


def test_dashboard_counts_the_day(client, admin_user, version):
    dirty = make_photo(plate="11가1111")
    predict(dirty, version, top1="DIRT", p1=0.9)
    ood = make_photo(plate="22나2222")
    predict(ood, version, is_ood=True, max_logit=0.1)
    make_photo(plate="33다3333")

    summary = client.get(reverse("inspection:dashboard")).context["summary"]

    assert summary.uploaded == 3
    assert summary.ood == 1
    assert summary.in_queue == 1
    assert summary.reviewed == 0

"""Inspector reviews of a photo's prediction: confirm, correct or mark irrelevant."""
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from api.exceptions import Conflict
from api.schema import ErrorSerializer
from api.serializers import ReviewCreatedSerializer, ReviewCreateSerializer
from inspection.services.reviews import InvalidReview, StaleRevision, submit_review


class ReviewViewSet(viewsets.GenericViewSet):
    serializer_class = ReviewCreateSerializer
    required_permissions = {"create": "inspection.review_photo"}

    @extend_schema(
        summary="Review a photo",
        description=(
            "`confirm` takes the newest prediction's labels, `correct` the given labels, `irrelevant` none; "
            "each review becomes the photo's new training label. `revision` is the photo's revision as the "
            "client read it: when someone changed the photo since, the review is refused with 409 and the "
            "client should reload the photo."
        ),
        request=ReviewCreateSerializer,
        responses={
            201: ReviewCreatedSerializer,
            409: OpenApiResponse(ErrorSerializer, description="The photo changed since the client read it (code stale_revision)."),
        },
    )
    def create(self, request):
        review_request = ReviewCreateSerializer(data=request.data)
        review_request.is_valid(raise_exception=True)
        fields = review_request.validated_data

        try:
            review = submit_review(
                fields["photo"],
                request.user,
                fields["action"],
                labels=fields.get("labels", ()),
                expected_revision=fields["revision"],
            )
        except StaleRevision as error:
            raise Conflict(str(error), code="stale_revision") from None
        except InvalidReview as error:
            raise ValidationError({"action": [str(error)]}) from None

        # The service incremented the revision on the photo it was given; the review's own
        # photo is the locked copy read before that.
        review.photo = fields["photo"]
        return Response(ReviewCreatedSerializer(review, context={"request": request}).data, status=status.HTTP_201_CREATED)

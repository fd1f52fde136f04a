"""The three roles of the product, as groups and the permissions each one holds.

Every screen and API endpoint checks one of these permissions on the server; a superuser
has all of them.
"""
INSPECTOR = "inspector"
OPERATIONS_MANAGER = "operations manager"
LABELING_ADMIN = "labeling admin"

ROLE_PERMISSIONS = {
    INSPECTOR: [
        "inspection.view_photo",
        "inspection.view_queue",
        "inspection.review_photo",
        "inspection.upload_photo",
        "inspection.dispatch_order",
    ],
    OPERATIONS_MANAGER: [
        "inspection.view_photo",
        "inspection.manage_orders",
        "inspection.view_dashboard",
    ],
    LABELING_ADMIN: [
        "inspection.view_photo",
        "inspection.view_queue",
        "inspection.upload_photo",
        "inspection.relabel_photo",
        "inspection.manage_labels",
        "inspection.manage_models",
        "inspection.view_dashboard",
        "audit.view_auditentry",
    ],
}

from django.urls import path

from crewline.billing import views

app_name = "billing"

urlpatterns = [
    path("", views.invoice_list, name="invoices"),
    path("invoices/export.csv", views.invoice_export, name="invoice_export"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/edit/", views.invoice_edit, name="invoice_edit"),
    path("invoices/<int:pk>/lines/", views.invoice_line_add, name="invoice_line_add"),
    path("invoices/<int:pk>/issue/", views.invoice_issue, name="invoice_issue"),
    path("invoices/<int:pk>/paid/", views.invoice_paid, name="invoice_paid"),
    path("invoices/<int:pk>/void/", views.invoice_void, name="invoice_void"),
    path("invoices/<int:pk>/send/", views.invoice_send, name="invoice_send"),
    path("invoice-lines/<int:pk>/remove/", views.invoice_line_remove,
         name="invoice_line_remove"),
    path("work-orders/<int:pk>/invoice/", views.invoice_from_work_order,
         name="invoice_from_work_order"),
    path("quotes/", views.quote_list, name="quotes"),
    path("quotes/new/", views.quote_create, name="quote_create"),
    path("quotes/<int:pk>/", views.quote_detail, name="quote"),
    path("quotes/<int:pk>/edit/", views.quote_edit, name="quote_edit"),
    path("quotes/<int:pk>/pdf/", views.quote_pdf, name="quote_pdf"),
    path("quotes/<int:pk>/lines/", views.quote_line_add, name="quote_line_add"),
    path("quotes/<int:pk>/send/", views.quote_send, name="quote_send"),
    path("quotes/<int:pk>/convert/", views.quote_convert, name="quote_convert"),
    path("quote-lines/<int:pk>/remove/", views.quote_line_remove, name="quote_line_remove"),
    path("price-book/", views.price_book, name="price_book"),
    path("price-book/new/", views.price_item_create, name="price_item_create"),
    path("price-book/export.csv", views.price_book_export, name="price_book_export"),
    path("price-book/import/", views.price_book_import, name="price_book_import"),
    path("price-book/import/preview/", views.price_book_preview, name="price_book_preview"),
    path("price-book/import/confirm/", views.price_book_confirm, name="price_book_confirm"),
    path("price-book/import/template.csv", views.price_book_template,
         name="price_book_template"),
    path("price-book/<int:pk>/edit/", views.price_item_edit, name="price_item_edit"),
    path("price-book/<int:pk>/active/", views.price_item_deactivate, name="price_item_active"),
    path("settings/", views.billing_settings, name="settings"),
    path("rates/<int:pk>/", views.member_rate, name="member_rate"),
]

"""PrintXpand's item messages: one spelling per action (see docs/printxpand.md for the
document's variants)."""
from __future__ import annotations

CUSTOMER_CREATED = "Customer created successfully!"
CUSTOMER_UPDATED = "Customer Updated successfully!"
CUSTOMER_BAD_ID = "Please pass valid customer Id!"
CUSTOMER_EMAIL_TAKEN = "A customer with the same email address already exists in an associated website."
CATEGORY_CREATED = "Category created successfully!"
CATEGORY_UPDATED = "Category Updated successfully!"
CATEGORY_BAD = "Please send proper data like id, name and parent id of Category!"
CATEGORY_DELETED = "Category Deleted successfully!"
CATEGORY_NOT_FOUND = "Category Id is not Found!"
PRODUCT_CREATED = "Product Created Successfully!"
PRODUCT_UPDATED = "Product Updated Successfully!"
PRODUCT_BAD = ("Please pass the proper product data like id,name and type. Also, product type must be "
               "either simple or configurable of Magento.")
PRODUCT_BAD_SPECIAL_PRICE = "Please pass vaild special_price."
PRODUCT_BAD_PRICE = "Please pass vaild price."
PRODUCT_BAD_VARIATIONS = "Configurable product and its sub-products must have proper attribute values."
PRODUCT_DELETED = "Product Deleted successfully!"
PRODUCT_NOT_FOUND = "Product Id is Not Found!"
ORDER_CREATED = "Order Created successfully!!"
ORDER_UPDATED = "Order updated successfully!"
ORDER_BAD = ("Please pass proper order data like order_id, sub_total, design_id, item_price, item_qty "
             "and shipping_address.")
ORDER_LENGTHS = "Order design id, item price, and item qty is not equaled"
PRODUCT_BAD_STATUS = "Please pass vaild status: 0 or 1."
PRODUCT_BAD_DESIGNER = "Please pass vaild enable_product_designer: 0 or 1."
PRODUCT_BAD_TIER_PRICE = ('Please pass vaild tier_price: a list of {"price": "<decimal>", "qty": "<number>"} '
                          "with a price of 0 or more and a qty above 0.")
PRODUCT_BAD_IMAGES = 'Please pass vaild images: a list of {"src": "<full path or URL of the image>"}.'
CUSTOMER_BAD_FIELD = "Please pass valid customer data: %s must be a string."
ORDER_FIELDS_HINT = " (missing or invalid: %s)"

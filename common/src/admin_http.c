/* placeholder: implemented by its owner */
typedef int med_placeholder_admin_http_t;
